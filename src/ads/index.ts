/** Ad contracts: attribute names, typed readers and writers for the pool's ad types. */
export * from "./names.js";
export * from "./glide-client.js";
export * from "./glide-factory-client.js";

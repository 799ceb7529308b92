/** Ad contracts: attribute names, typed readers and writers for the pool's ad types. */
export * from "./names.js";
export * from "./glide-client.js";
export * from "./glide-factory.js";
export * from "./glide-factory-client.js";
export * from "./glide-resource.js";
export * from "./slot.js";
export * from "./scheduler.js";
export * from "./collector.js";
export * from "./job-requests.js";

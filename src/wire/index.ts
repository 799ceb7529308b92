/** The wire: schema, framing, typed errors, the RPC server and the reconnecting client. */
export * from "./errors.js";
export { createRpcServer, DEFAULT_SERVER_LIMITS } from "./server.js";
export type { RpcServer, RpcServerOptions, ServerLimits, ChainVerifier } from "./server.js";
export { createRpcClient } from "./client.js";
export type { RpcClient, RpcClientOptions } from "./client.js";
export { loadClientCredentials } from "./client-tls.js";
export type { ClientCredentials, ClientCredentialOptions } from "./client-tls.js";
export type { CallOptions } from "./call-table.js";
export type { ConnectionStatus } from "./status.js";
export { isKnownDown } from "./status.js";
export { bytesCodec } from "./registry.js";
export type { CallContext, StreamSink, MethodOptions } from "./registry.js";
export { codecOf, messageCodec, messageType, wireSchema } from "./schema.js";
export type { Codec, CodecSpec, WireClassAd } from "./schema.js";
export { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";

/**
 * The small HTTPS listener that daemons without an RPC listener of their own (the factory, the
 * frontend) open for `GET /metrics`: the wire server with no methods, so a scrape is
 * authenticated exactly as an RPC peer would be (client chain verified against the trust
 * directory, proxies included) and needs the `monitor` or `admin` role from its own
 * `authorization` block. With a `tokens` block (the shared one the collector and schedd take) a
 * scraper may instead send `Authorization: Bearer <token>`; the token's issuer, sub, group or
 * scope must be given `monitor` by the same rules. It binds to loopback unless told otherwise.
 */
import type { Registry } from "prom-client";
import type { Logger } from "pino";
import { z } from "zod";
import type { AuthzConfig } from "../security/authz.js";
import { authorizationBlock, listenerTlsBlock } from "../common/config-blocks.js";
import { listenerTlsMaterial, rpcServerFromBlocks, type TlsMaterial } from "../common/tls-rpc.js";
import {
  pilotRevocationsFromConfig,
  tokenVerifierFromConfig,
  tokensConfigSchema,
} from "../common/tokens-config.js";
import { metricsRoute } from "./metrics-route.js";
import type { RpcServer } from "./server.js";
import { silentLogger } from "./silent-logger.js";
import { registerWireMetrics } from "./wire-metrics.js";

/** The `metrics` block of a daemon's configuration. */
export const metricsListenerSchema = z
  .object({
    listen: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65535),
      })
      .strict(),
    /**
     * The listener's host certificate and key; the daemon's own credentials when absent (a
     * factory's or frontend's certificate may be a client certificate that cannot serve).
     */
    tls: listenerTlsBlock().optional(),
    /** Who may scrape: identities given the `monitor` (or `admin`) role. Nobody by default. */
    authorization: authorizationBlock.default({ rules: [] }),
    /** Bearer tokens accepted beside certificates; none without this block. */
    tokens: tokensConfigSchema.optional(),
  })
  .strict();

export type MetricsListenerConfig = z.output<typeof metricsListenerSchema>;

export type MetricsListenerOptions = {
  config: MetricsListenerConfig;
  registry: Registry;
  /** The daemon's own certificate, key and trust directory; its key pair serves when the block has no `tls`. */
  tls: TlsMaterial;
  logger?: Logger;
};

export type MetricsListener = {
  /** https:// URL of /metrics (host as configured, 127.0.0.1 for a wildcard). */
  url(): string;
  port(): number;
  close(): Promise<void>;
};

export async function startMetricsListener(opts: MetricsListenerOptions): Promise<MetricsListener> {
  const authz = opts.config.authorization;
  const tls = listenerTlsMaterial(opts.config.tls, opts.tls, "metrics.tls");
  const tokens = opts.config.tokens;
  // Identities no rule names get no role here: a valid certificate alone does not read metrics.
  // Built from the blocks as every listener is, so the daemon's TLS version, CA namespaces and
  // expired-CRL modes hold here too.
  const server: RpcServer = rpcServerFromBlocks({
    listen: opts.config.listen,
    tls,
    authorization: { rules: authz.rules, default_roles: authz.default_roles ?? [] } as AuthzConfig,
    ...(tokens
      ? {
          tokenVerifier: tokenVerifierFromConfig(tokens),
          pilotRevocations: pilotRevocationsFromConfig(tokens, opts.logger ?? silentLogger()),
        }
      : {}),
    logger: opts.logger,
    httpRoutes: metricsRoute(opts.registry),
    observer: registerWireMetrics(opts.registry),
  });
  await server.listen();
  return {
    url: () => `${server.url().replace(/^wss:/, "https:").replace(/\/$/, "")}/metrics`,
    port: () => server.address().port,
    close: () => server.close(),
  };
}

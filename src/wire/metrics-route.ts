/**
 * The `/metrics` route every daemon serves: its own prom-client registry (never the global
 * default: several daemons share one process in tests), rendered in the Prometheus text format
 * for callers holding the `monitor` or `admin` role.
 */
import { collectDefaultMetrics, Registry } from "prom-client";
import type { HttpRoute } from "./server.js";

export const METRICS_PATH = "/metrics";
export const METRICS_ROLES: readonly string[] = ["monitor", "admin"];

export type DaemonRegistryOptions = {
  /** Add prom-client's process metrics (CPU, memory, event-loop lag, handles). */
  processMetrics?: boolean;
};

export function createDaemonRegistry(opts: DaemonRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (opts.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: "updraft_" });
  return registry;
}

export function metricsRoute(registry: Registry): Record<string, HttpRoute> {
  return {
    [METRICS_PATH]: {
      roles: METRICS_ROLES,
      handler: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    },
  };
}

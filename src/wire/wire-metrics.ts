/**
 * The wire's Prometheus metrics, the same on every daemon: RPC latency per method and outcome,
 * refused connections by cause, and on a daemon that serves RPCs its open connections. Method names are the daemon's own (an unknown method is
 * counted as `_unknown`), and causes are stable codes, so both label sets stay small.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { labelValue } from "./metric-labels.js";
import type { WireObserver } from "./observer.js";

export function registerWireMetrics(registry: Registry): WireObserver {
  const calls = new Histogram({
    name: "updraft_rpc_duration_seconds",
    help: "RPC calls served, by method and the code they ended with (ok or a wire error code).",
    labelNames: ["method", "code"],
    // Streams (watches) last as long as their caller keeps them: the top buckets are for them.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600, 3600],
    registers: [registry],
  });
  const refused = new Counter({
    name: "updraft_refused_connections_total",
    help:
      "Connections and HTTPS requests refused before any call, by cause (no-certificate, " +
      "no-role, lacks-role, a chain verification code, token-<check>, tls-handshake, closing).",
    labelNames: ["cause"],
    registers: [registry],
  });
  return {
    callDone: (method, code, seconds) => calls.observe({ method, code }, seconds),
    refused: (cause) => refused.inc({ cause: labelValue(cause) }),
  };
}

/** `updraft_rpc_connections`, read at scrape time from the RPC server's count. */
export function registerConnectionsGauge(registry: Registry, connections: () => number): void {
  new Gauge({
    name: "updraft_rpc_connections",
    help: "Authenticated RPC connections open on this daemon.",
    registers: [registry],
    collect() {
      this.set(connections());
    },
  });
}

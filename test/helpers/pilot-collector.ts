/**
 * A real collector for pilot tests: the test CA's host certificate on loopback, the
 * authorization rules the test gives, and a client that reads it as the admin.
 */
import { createCollectorClient, type CollectorClient } from "../../src/collector/client.js";
import { collectorConfigSchema } from "../../src/collector/config.js";
import { createRpcClient } from "../../src/wire/index.js";
import { startCollector, type Pool, type Running } from "../collector/harness.js";
import { DN, type TestEnv } from "../schedd/harness.js";
import type { TestPki } from "./pki.js";

type Rule = { identity?: string; issuer?: string; group?: string; roles: string[] };

/** `extra`: more of the collector's configuration (its `tokens` block, say). */
export function startTestCollector(
  pki: TestPki,
  rules: Rule[],
  extra: Record<string, unknown> = {},
): Promise<Running> {
  // startCollector reads the pool only for its own clients, which these tests do not use.
  return startCollector(
    { pki } as Pool,
    collectorConfigSchema.parse({
      name: "collector@test",
      listen: { host: "127.0.0.1", port: 0 },
      tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
      authorization: { rules },
      ...extra,
    }),
  );
}

/** A client of `collector` as the test env's admin, closed when the test ends. */
export function adminReader(
  collector: Running,
  env: TestEnv,
  t: { after(fn: () => unknown): void },
): CollectorClient {
  const rpc = createRpcClient({
    url: collector.url,
    certPem: env.creds.admin.certPem,
    keyPem: env.creds.admin.keyPem,
    caDir: env.pki.caDir,
  });
  t.after(() => rpc.close());
  return createCollectorClient(rpc);
}

/** Pilots may advertise slots, the admin reads them; stopped when the test ends. */
export async function startPilotCollector(
  env: TestEnv,
  t: { after(fn: () => unknown): void },
): Promise<{ collector: Running; reader: CollectorClient }> {
  const collector = await startTestCollector(env.pki, [
    { identity: DN.pilot, roles: ["pilot", "read"] },
    { identity: DN.admin, roles: ["admin", "read"] },
  ]);
  t.after(() => collector.stop());
  return { collector, reader: adminReader(collector, env, t) };
}

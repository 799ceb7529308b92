/**
 * A real collector beside a schedd test env, as pilot tests need it: the test CA's host
 * certificate, pilots may advertise slots, the admin reads them. Stopped when the test ends.
 */
import { createCollectorClient, type CollectorClient } from "../../src/collector/client.js";
import { collectorConfigSchema } from "../../src/collector/config.js";
import { createRpcClient } from "../../src/wire/index.js";
import { startCollector, type Pool, type Running } from "../collector/harness.js";
import { DN, type TestEnv } from "../schedd/harness.js";

export async function startPilotCollector(
  env: TestEnv,
  t: { after(fn: () => unknown): void },
): Promise<{ collector: Running; reader: CollectorClient }> {
  // startCollector reads the pool only for its own clients, which these tests do not use.
  const collector = await startCollector(
    { pki: env.pki } as Pool,
    collectorConfigSchema.parse({
      name: "collector@test",
      listen: { host: "127.0.0.1", port: 0 },
      tls: {
        cert_file: env.pki.host.certFile,
        key_file: env.pki.host.keyFile,
        trust_dir: env.pki.caDir,
      },
      authorization: {
        rules: [
          { identity: DN.pilot, roles: ["pilot", "read"] },
          { identity: DN.admin, roles: ["admin", "read"] },
        ],
      },
    }),
  );
  t.after(() => collector.stop());
  const rpc = createRpcClient({
    url: collector.url,
    certPem: env.creds.admin.certPem,
    keyPem: env.creds.admin.keyPem,
    caDir: env.pki.caDir,
  });
  t.after(() => rpc.close());
  return { collector, reader: createCollectorClient(rpc) };
}

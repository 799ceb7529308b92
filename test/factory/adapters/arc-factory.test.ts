/**
 * A real factory daemon with an `arc` entry, a real collector and a real A-REX: the frontend asks
 * for pilots, the factory decrypts the pilot credential, submits through the arc adapter (the
 * credential delegated to the CE), tracks the pilots to the end on the CE, fetches their output
 * and parses their reports.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../../src/factory/daemon.js";
import { encryptCredential } from "../../../src/security/credential-crypto.js";
import { startArcPeer, type ArcPeer } from "../../helpers/arc-peer.js";
import { DN } from "../../collector/harness.js";
import { createFactoryWorld, type FactoryWorld, silent } from "../factory-harness.js";
import { DELEGATED_PROXY_PILOT, until } from "./arc-harness.js";

let w: FactoryWorld;
let peer: ArcPeer;
before(async () => {
  w = await createFactoryWorld();
  peer = await startArcPeer({ pki: w.pool.pki, allowedDns: [DN.factory] });
});
after(async () => {
  await peer?.stop();
  await w?.cleanup();
});

test(
  "a factory runs a frontend's pilots on a real ARC CE to the end",
  { timeout: 120_000 },
  async () => {
    const pilotProxy = w.pool.pki.proxyOf(w.pool.creds.pilot);
    const cfg = w.config({
      top: { work_dir: join(w.dir, "work-arc") },
      // The pilot fails unless it holds a proxy delegated from the frontend's pilot credential.
      pilotScript: DELEGATED_PROXY_PILOT,
      entry: {
        gridtype: "arc",
        gatekeeper: "localhost",
        adapter: {
          endpoint: peer.endpoint,
          ca_dir: w.pool.pki.caDir,
          client_cert: w.pool.creds.factory.certFile,
          client_key: w.pool.creds.factory.keyFile,
        },
      },
    });
    const frontend = w.collector.as("frontend");
    await frontend.advertise(
      [
        w.glideClient({
          GlideinEncParamCredential: encryptCredential(pilotProxy.pem, w.publicPem),
        }),
      ],
      "GlideClient",
    );
    const daemon = createFactoryDaemon(cfg, { logger: silent });
    try {
      await daemon.start();
      const pilots = daemon.store.all();
      assert.equal(pilots.length, 3);
      assert.ok(
        pilots.every((p) => p.handle),
        JSON.stringify(pilots),
      );
      await until(async () => {
        await daemon.cycle();
        return daemon.store.all().filter((p) => p.outcome !== null).length >= 3;
      }, 100_000);
      const counters = daemon.store.counters().filter((c) => c.client === "fe.main");
      const get = (n: string) => counters.find((c) => c.name === n)?.value ?? 0;
      assert.equal(get("failed"), 0, JSON.stringify(counters));
      assert.ok(get("finished") >= 3, JSON.stringify(counters));
      assert.ok(get("jobs_run") >= 6, JSON.stringify(counters));
    } finally {
      await daemon.stop();
      await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
    }
  },
);

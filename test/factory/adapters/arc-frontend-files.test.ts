/**
 * The whole CE-token chain with the VO's ready-made token file, at a real A-REX 6.17 that admits
 * only one issuer's tokens for its own endpoint: a real schedd holds idle jobs, a real frontend
 * daemon reads the token file (as htgettoken leaves it) and the pilot proxy, and seals both into
 * its request at a real collector; a real factory daemon checks the token against its arc entry,
 * submits with it and delegates the proxy over that token connection, and the pilots run to the
 * end. When the token service refreshes the file, the next frontend cycle carries the new token
 * and the factory keeps it for the entry's pilots.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../../src/factory/daemon.js";
import { parseFrontendConfig } from "../../../src/frontend/config.js";
import { createFrontendDaemon } from "../../../src/frontend/daemon.js";
import type { ArcPeer } from "../../helpers/arc-peer.js";
import type { HttpsIssuer } from "../../helpers/https-issuer.js";
import { DN } from "../../collector/harness.js";
import { job, startEnv, submit, type TestEnv } from "../../schedd/harness.js";
import { createFactoryWorld, type FactoryWorld, silent } from "../factory-harness.js";
import { CE_TOKEN_SCOPE, DELEGATED_PROXY_PILOT, startTokenArc, until } from "./arc-harness.js";

let w: FactoryWorld;
let peer: ArcPeer;
let iam: HttpsIssuer;
let schedd: TestEnv;
before(async () => {
  w = await createFactoryWorld();
  ({ issuer: iam, peer } = await startTokenArc(w.pool.pki, w.dir));
  schedd = await startEnv();
});
after(async () => {
  await schedd?.close();
  await peer?.stop();
  iam?.close();
  await w?.cleanup();
});

test(
  "a frontend's ready-made CE token file takes pilots to a real ARC CE, and its refresh follows",
  { timeout: 180_000 },
  async () => {
    const proxyFile = w.pool.pki.proxyOf(w.pool.creds.pilot).file;
    const tokenFile = join(w.dir, "bt-ce");
    const issue = () =>
      iam.issue({
        sub: "vo-production",
        audiences: [peer.endpoint],
        scope: CE_TOKEN_SCOPE,
        lifetimeS: 3600,
      });
    writeFileSync(tokenFile, `${await issue()}\n`, { mode: 0o600 });
    await submit(schedd.client("alice"), [job({}), job({})]);

    const workDir = join(w.dir, "work-arc-files");
    const factory = createFactoryDaemon(
      w.config({
        top: { work_dir: workDir },
        pilotScript: DELEGATED_PROXY_PILOT,
        entry: {
          gridtype: "arc",
          gatekeeper: "",
          adapter: { endpoint: peer.endpoint, ca_dir: w.pool.pki.caDir, frontend_tokens: true },
          attrs: {
            GLIDEIN_Site: { value: "TEST" },
            GLIDEIN_CPUS: { value: 1, type: "int", to_pilot: true },
            GLIDEIN_TrustDomain: { value: "grid" },
          },
        },
      }),
      { logger: silent },
    );
    const frontend = createFrontendDaemon(
      parseFrontendConfig(
        JSON.stringify({
          name: "fe",
          collector: { url: w.collector.url },
          schedds: [schedd.schedd.url()],
          security: {
            identity: DN.frontend,
            credentials: [{ file: proxyFile, security_class: "main", trust_domain: "grid" }],
            ce_tokens: { files: [tokenFile] },
          },
          factories: [{ name: "fact1", identity: DN.factory }],
          groups: [{ name: "main", limits: { ramp_up_attenuation: 1 } }],
        }),
        "fe.yaml",
      ),
      {
        peers: {
          collector: w.collector.as("frontend"),
          schedds: [{ url: schedd.schedd.url(), client: schedd.client("frontend") }],
          timeoutMs: 5000,
        },
        logger: silent,
      },
    );
    const stored = join(workDir, "credentials", "fe.main", "submit-token-local1");
    try {
      await factory.start(); // advertises the entry, with its key and its endpoint as gatekeeper
      await frontend.cycle();
      await factory.cycle();
      const pilots = factory.store.all();
      assert.ok(pilots.length >= 1, JSON.stringify(factory.store.lastErrors()));
      assert.ok(
        pilots.every((p) => p.handle),
        JSON.stringify(pilots),
      );
      assert.equal(readFileSync(stored, "utf8").trim(), readFileSync(tokenFile, "utf8").trim());

      // The token service refreshes the file in place (same subject, so A-REX still shows the
      // pilots submitted with the first one); the next cycles carry and keep the new token.
      const refreshed = await issue();
      writeFileSync(tokenFile, refreshed, { mode: 0o600 });
      await frontend.cycle();
      await until(async () => {
        await factory.cycle();
        return readFileSync(stored, "utf8").trim() === refreshed;
      }, 30_000);

      // The jobs stay idle (these pilots run none), so the factory goes on topping up: wait for
      // the first pilots, submitted with the first token and watched with the refreshed one.
      const first = new Set(pilots.map((p) => p.id));
      await until(async () => {
        await factory.cycle();
        return factory.store
          .all()
          .filter((p) => first.has(p.id))
          .every((p) => p.outcome !== null);
      }, 120_000);
      const counters = factory.store.counters().filter((c) => c.client === "fe.main");
      const get = (n: string) => counters.find((c) => c.name === n)?.value ?? 0;
      assert.equal(get("failed"), 0, JSON.stringify(counters));
      assert.ok(get("finished") >= first.size, JSON.stringify(counters));
    } finally {
      await frontend.stop();
      await factory.stop();
    }
  },
);

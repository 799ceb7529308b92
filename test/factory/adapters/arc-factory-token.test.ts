/**
 * A real factory daemon with an `arc` entry that submits with frontend tokens, a real collector
 * and a real A-REX that admits one issuer's tokens for its own endpoint only: the frontend's
 * request carries the pilot credential and a CE token (audience the entry's endpoint, which the
 * factory advertises as its gatekeeper); the factory checks and stores the token, submits with
 * it, delegates the pilot credential over the token connection, and tracks the pilots to the end.
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../../src/factory/daemon.js";
import { encryptCredential } from "../../../src/security/credential-crypto.js";
import type { ArcPeer } from "../../helpers/arc-peer.js";
import type { HttpsIssuer } from "../../helpers/https-issuer.js";
import { createFactoryWorld, type FactoryWorld, silent } from "../factory-harness.js";
import { CE_TOKEN_SCOPE, DELEGATED_PROXY_PILOT, startTokenArc, until } from "./arc-harness.js";

let w: FactoryWorld;
let peer: ArcPeer;
let issuer: HttpsIssuer;
before(async () => {
  w = await createFactoryWorld();
  ({ issuer, peer } = await startTokenArc(w.pool.pki, w.dir));
});
after(async () => {
  await peer?.stop();
  issuer?.close();
  await w?.cleanup();
});

test(
  "a factory runs pilots on a real ARC CE with the frontend's CE token and a delegated proxy",
  { timeout: 120_000 },
  async () => {
    const pilotProxy = w.pool.pki.proxyOf(w.pool.creds.pilot);
    const workDir = join(w.dir, "work-arc-token");
    const cfg = w.config({
      top: { work_dir: workDir },
      // The pilot fails unless it holds a proxy delegated from the frontend's pilot credential.
      pilotScript: DELEGATED_PROXY_PILOT,
      entry: {
        gridtype: "arc",
        gatekeeper: "",
        adapter: { endpoint: peer.endpoint, ca_dir: w.pool.pki.caDir, frontend_tokens: true },
      },
    });
    const token = await issuer.issue({
      sub: "fe",
      audiences: [peer.endpoint],
      scope: CE_TOKEN_SCOPE,
      lifetimeS: 3600,
    });
    const frontend = w.collector.as("frontend");
    await frontend.advertise(
      [
        w.glideClient({
          GlideinEncParamCredential: encryptCredential(pilotProxy.pem, w.publicPem),
          GlideinEncParamSubmitToken: encryptCredential(token, w.publicPem),
        }),
      ],
      "GlideClient",
    );
    const daemon = createFactoryDaemon(cfg, { logger: silent });
    try {
      await daemon.start();
      const pilots = daemon.store.all();
      assert.equal(pilots.length, 3, JSON.stringify(daemon.store.lastErrors()));
      assert.ok(
        pilots.every((p) => p.handle),
        JSON.stringify(pilots),
      );
      const creds = join(workDir, "credentials", "fe.main");
      const tokenFile = readdirSync(creds).find((f) => f.startsWith("submit-token-"));
      assert.equal(tokenFile, "submit-token-local1");
      assert.equal(statSync(join(creds, tokenFile)).mode & 0o777, 0o600);
      await until(async () => {
        await daemon.cycle();
        return daemon.store.all().filter((p) => p.outcome !== null).length >= 3;
      }, 100_000);
      const counters = daemon.store.counters().filter((c) => c.client === "fe.main");
      const get = (n: string) => counters.find((c) => c.name === n)?.value ?? 0;
      assert.equal(get("failed"), 0, JSON.stringify(counters));
      assert.ok(get("finished") >= 3, JSON.stringify(counters));
    } finally {
      await daemon.stop();
      await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
    }
  },
);

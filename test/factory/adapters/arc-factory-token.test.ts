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
import { startArcPeer, type ArcPeer } from "../../helpers/arc-peer.js";
import { startHttpsIssuer, type HttpsIssuer } from "../../helpers/https-issuer.js";
import { DN } from "../../collector/harness.js";
import { createFactoryWorld, type FactoryWorld, PILOT_OK, silent } from "../factory-harness.js";

let w: FactoryWorld;
let peer: ArcPeer;
let issuer: HttpsIssuer;
before(async () => {
  w = await createFactoryWorld();
  issuer = await startHttpsIssuer(w.pool.pki, w.dir);
  peer = await startArcPeer({
    pki: w.pool.pki,
    allowedDns: [],
    tokenIssuer: issuer.url,
    pinTokenAudience: true,
  });
});
after(async () => {
  await peer?.stop();
  issuer?.close();
  await w?.cleanup();
});

async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 500));
  }
}

test(
  "a factory runs pilots on a real ARC CE with the frontend's CE token and a delegated proxy",
  { timeout: 120_000 },
  async () => {
    const pilotProxy = w.pool.pki.proxyOf(w.pool.creds.pilot);
    const workDir = join(w.dir, "work-arc-token");
    const cfg = w.config({
      top: { work_dir: workDir },
      // The pilot fails unless it holds a proxy delegated from the frontend's pilot credential.
      pilotScript:
        'openssl x509 -in "$X509_USER_PROXY" -noout -issuer -nameopt compat |\n' +
        `  grep -q '^issuer=${DN.pilot}/CN=[0-9]*$' || exit 9\n` +
        PILOT_OK,
      entry: {
        gridtype: "arc",
        gatekeeper: "",
        adapter: { endpoint: peer.endpoint, ca_dir: w.pool.pki.caDir, frontend_tokens: true },
      },
    });
    const token = await issuer.issue({
      sub: "fe",
      audiences: [peer.endpoint],
      scope: "compute.create compute.read compute.modify compute.cancel",
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

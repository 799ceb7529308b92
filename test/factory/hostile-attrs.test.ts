/**
 * A frontend's GlideClient ad naming system variables as attributes: the real factory submits
 * through the real local adapter, and the started pilot's environment is read back.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { decodeGlideinAttrs, PILOT_ATTRS_ENV } from "../../src/ads/glidein-attrs.js";
import { ClassAd } from "../../src/classad/index.js";
import type { CollectorClient } from "../../src/collector/client.js";
import { createLocalAdapter } from "../../src/factory/adapters/local/local-adapter.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache } from "../../src/factory/credentials.js";
import { runCycle } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import { encryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-hostile-attrs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a frontend's attributes never become the pilot's own variables, and the entry's const wins", async () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const envDir = join(dir, "env");
  const pilotScript = join(dir, "pilot.sh");
  writeFileSync(pilotScript, `#!/bin/sh\nenv > "${envDir}-$$"\nsleep 600\n`, { mode: 0o755 });
  const config = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: { cert_file: "x", key_file: "x", rsa_private_key_file: "x", rsa_public_key_file: "x" },
    work_dir: dir,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [
      {
        name: "e",
        gridtype: "local",
        pilot: { command: pilotScript },
        attrs: {
          GLIDEIN_Site: { value: "Real_Site" },
          VO_Queue: { value: "site-queue", glidein_publish: true },
        },
      },
    ],
  });
  const request = new ClassAd()
    .setValue("ReqGlidein", "e@f")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe")
    .setValue("ReqIdleGlideins", 1)
    .setValue("ReqMaxGlideins", 1)
    .setValue("GlideinEncParamCredential", encryptCredential("proxy", publicPem))
    .setValue("GlideinParamLD_PRELOAD", "/tmp/evil.so")
    .setValue("GlideinParamNODE_OPTIONS", "--require /tmp/evil.js")
    .setValue("GlideinParamGLIDEIN_Site", "Fake_Site")
    .setValue("GlideinParamUPDRAFT_FRONTEND_IDENTITY", "/CN=another-frontend")
    .setValue("GlideinParamVO_Queue", "frontend-queue")
    .setValue("GlideinParamVO_Dir", "/cvmfs/vo")
    .setValue("GlideinPublishAttrs", "VO_Dir,VO_Queue")
    .toJSON();
  const collector = {
    advertise: async () => [],
    query: async (q: { type?: string }) => (q.type === "GlideClient" ? [request] : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const adapter = createLocalAdapter(
    { slots: 2, kill_grace_s: 0 },
    { stateDir: join(dir, "local"), logger: pino({ level: "silent" }), now: Date.now },
  );
  const store = new FactoryStore(join(dir, "f.db"));
  after(async () => {
    await adapter.remove(
      store
        .live()
        .map((p) => p.handle!)
        .filter(Boolean),
    );
    await adapter.close();
    store.close();
  });
  const deps = {
    config,
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: pino({ level: "silent" }),
    now: Date.now,
    keys: { privatePem, publicPem, id: pubKeyId(publicPem) },
    credentialDir: join(dir, "creds"),
    credentialCache: new CredentialCache(),
  };
  assert.equal((await runCycle(deps)).submitted, 1);
  const file = await waitForFile(dir, "env-");
  const env = new Map(
    readFileSync(file, "utf8")
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
  );
  assert.equal(env.has("LD_PRELOAD"), false);
  assert.equal(env.has("NODE_OPTIONS"), false);
  assert.equal(env.get("GLIDEIN_Site"), "Real_Site");
  // Renewed tokens are taken only from the request's writer, whatever the frontend says.
  assert.equal(env.get("UPDRAFT_FRONTEND_IDENTITY"), "/CN=fe");
  assert.equal(env.has("VO_Dir"), false, "attributes travel in one variable, not as their own");
  const attrs = decodeGlideinAttrs(env.get(PILOT_ATTRS_ENV) ?? "");
  assert.ok(attrs.ok);
  assert.deepEqual(attrs.attrs.map((a) => `${a.name}=${a.value}`).sort(), [
    "VO_Dir=/cvmfs/vo",
    "VO_Queue=site-queue",
  ]);
  const errors = store
    .lastErrors()
    .map((e) => e.message)
    .join("\n");
  assert.match(errors, /LD_PRELOAD: a name the system sets itself/);
});

async function waitForFile(base: string, prefix: string): Promise<string> {
  const end = Date.now() + 60_000;
  for (;;) {
    const f = readdirSync(base).find((n) => n.startsWith(prefix));
    if (f && existsSync(join(base, f)) && readFileSync(join(base, f), "utf8").includes("PATH=")) {
      return join(base, f);
    }
    if (Date.now() > end) throw new Error(`no ${prefix}* file in ${base} after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { ClassAd } from "../../src/classad/index.js";
import type { CollectorClient } from "../../src/collector/client.js";
import { createLocalAdapter } from "../../src/factory/adapters/local/local-adapter.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache } from "../../src/factory/credentials.js";
import { runCycle } from "../../src/factory/cycle.js";
import { spreadOverCredentials } from "../../src/factory/cycle-requests.js";
import { FactoryStore } from "../../src/factory/store.js";
import { encryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-credsplit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("new pilots go to the credential with fewest pilots, the first of equals", () => {
  const creds = [
    { id: "a", file: "/a" },
    { id: "b", file: "/b" },
    { id: "c", file: "/c" },
  ];
  const ids = (live: [string, number][], n: number) =>
    spreadOverCredentials(creds, new Map(live), n).map((c) => c.id);
  assert.deepEqual(ids([], 5), ["a", "b", "c", "a", "b"]);
  assert.deepEqual(
    ids(
      [
        ["a", 3],
        ["b", 1],
      ],
      4,
    ),
    ["c", "b", "c", "b"],
  );
  assert.deepEqual(spreadOverCredentials(creds.slice(0, 1), new Map(), 3), [], "one: no split");
});

test("a request carrying two credentials has its pilots split over them, each in its own file", async () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const work = mkdtempSync(join(dir, "w-"));
  const pilotScript = join(work, "pilot.sh");
  writeFileSync(pilotScript, "#!/bin/sh\nsleep 600\n", { mode: 0o755 });
  const config = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: { cert_file: "x", key_file: "x", rsa_private_key_file: "x", rsa_public_key_file: "x" },
    work_dir: work,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "e", gridtype: "local", pilot: { command: pilotScript } }],
  });
  const request = new ClassAd()
    .setValue("ReqGlidein", "e@f")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe")
    .setValue("ReqIdleGlideins", 4)
    .setValue("ReqMaxGlideins", 8)
    .setValue("GlideinEncParamCredential", encryptCredential("proxy-one", publicPem))
    .setValue("GlideinEncParamCredential_1", encryptCredential("proxy-two", publicPem))
    .toJSON();
  // The collector is not under test: a stand-in that returns the request.
  const collector = {
    advertise: async () => [],
    query: async (q: { type?: string }) => (q.type === "GlideClient" ? [request] : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const adapter = createLocalAdapter(
    { slots: 8, kill_grace_s: 0 },
    { stateDir: join(work, "local"), logger: pino({ level: "silent" }), now: Date.now },
  );
  const store = new FactoryStore(join(work, "f.db"));
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
    credentialDir: join(work, "creds"),
    credentialCache: new CredentialCache(),
  };
  assert.equal((await runCycle(deps)).submitted, 4);
  const byCred = new Map<string, number>();
  for (const p of store.live()) byCred.set(p.credentialId, (byCred.get(p.credentialId) ?? 0) + 1);
  assert.deepEqual([...byCred.values()], [2, 2]);
  const contents = [...byCred.keys()]
    .map((id) => readFileSync(join(work, "creds", "fe.g", `credential-${id}`), "utf8"))
    .sort();
  assert.deepEqual(contents, ["proxy-one", "proxy-two"]);
});

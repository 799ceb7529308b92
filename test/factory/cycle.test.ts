import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { ClassAd } from "../../src/classad/index.js";
import type { CollectorClient } from "../../src/collector/client.js";
import type { GridAdapter, PilotStatus } from "../../src/factory/adapters/types.js";
import { createLocalAdapter } from "../../src/factory/adapters/local/local-adapter.js";
import { type FactoryConfigInput, factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache } from "../../src/factory/credentials.js";
import { runCycle } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import { encryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-cycle-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A factory with one entry "e" of a fake grid type, its RSA keys, and fe.g's request for 2 pilots. */
function oneEntryWorld(
  workDir: string,
  entry: Partial<FactoryConfigInput["entries"][number]> = {},
) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const config = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: {
      cert_file: "x",
      key_file: "x",
      rsa_private_key_file: "x",
      rsa_public_key_file: "x",
    },
    work_dir: workDir,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "e", gridtype: "fake", pilot: { command: "/bin/true" }, ...entry }],
  });
  const request = new ClassAd()
    .setValue("ReqGlidein", "e@f")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe")
    .setValue("ReqIdleGlideins", 2)
    .setValue("ReqMaxGlideins", 5)
    .setValue("GlideinEncParamCredential", encryptCredential("secret", publicPem))
    .toJSON();
  return { config, request, keys: { privatePem, publicPem, id: pubKeyId(publicPem) } };
}

test("intents left by an adapter that failed without an answer are settled later, not resubmitted blindly", async () => {
  const { config, request: ad, keys } = oneEntryWorld(dir, { stale: { unsubmitted_s: 60 } });
  const collector = {
    advertise: async () => [],
    query: async () => [ad],
  } as unknown as CollectorClient;
  let failing = true;
  const states = new Map<string, PilotStatus>();
  const adapter: GridAdapter = {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 10, output: false },
    async submit(batch) {
      if (failing) throw new Error("CE timed out");
      return batch.map((p) => {
        states.set(`h${p.intentId}`, { handle: `h${p.intentId}`, state: "Idle" });
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    status: async (hs) => new Map(hs.map((h) => [h, states.get(h)!])),
    remove: async () => undefined,
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () =>
      [...states.values()].map((s) => ({
        intentId: Number(s.handle.slice(1)),
        handle: s.handle,
        status: s,
      })),
    close: async () => undefined,
  };
  const store = new FactoryStore(join(dir, "f.db"));
  let now = Date.UTC(2026, 0, 1);
  const deps = {
    config,
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: pino({ level: "silent" }),
    now: () => now,
    keys,
    credentialDir: join(dir, "creds"),
  };
  await runCycle(deps);
  assert.deepEqual(
    store.all().map((p) => p.state),
    ["Unsubmitted", "Unsubmitted"],
  );
  failing = false;
  // Within the unsubmitted age the intents still count as idle: nothing more is submitted.
  now += 30_000;
  assert.equal((await runCycle(deps)).submitted, 0);
  // Past it they are settled (the CE never got them) and the request is served afresh.
  now += 60_000;
  assert.equal((await runCycle(deps)).submitted, 2);
  const all = store.all();
  assert.deepEqual(
    all.map((p) => p.state),
    ["Removed", "Removed", "Idle", "Idle"],
  );
  assert.equal(all[0]!.holdReason, "never submitted");
  store.close();
});

test("an entry whose CE refuses every submission is left alone for a doubling pause", async () => {
  const work = mkdtempSync(join(dir, "backoff-"));
  const { config, request, keys } = oneEntryWorld(work);
  const advertised: Record<string, string>[] = [];
  const collector = {
    advertise: async (ads: Record<string, string>[]) => {
      advertised.push(...ads);
      return [];
    },
    query: async () => [request],
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  let refusing = true;
  let calls = 0;
  const adapter: GridAdapter = {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 10, output: false },
    async submit(batch) {
      calls++;
      return batch.map((p) =>
        refusing
          ? { intentId: p.intentId, ok: false as const, error: "403 Forbidden" }
          : { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` },
      );
    },
    status: async (hs) => new Map(hs.map((h) => [h, { handle: h, state: "Idle" as const }])),
    remove: async () => undefined,
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () => [],
    close: async () => undefined,
  };
  const store = new FactoryStore(join(work, "f.db"));
  let now = Date.UTC(2026, 0, 1);
  const deps = {
    config,
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: pino({ level: "silent" }),
    now: () => now,
    keys,
    credentialDir: join(work, "creds"),
    backoff: new Map(),
  };
  await runCycle(deps);
  assert.equal(calls, 1);
  const factoryAd = advertised.filter((a) => a.MyType === '"GlideFactory"').at(-1)!;
  assert.equal(factoryAd.GlideinMonitorSubmitFailures, "1");
  assert.match(factoryAd.GlideinSubmitLastError ?? "", /403 Forbidden/);
  // Within the 30 s pause: no submission at all, and the reason is in the entry's books.
  now += 20_000;
  await runCycle(deps);
  assert.equal(calls, 1, "no submission during the pause");
  assert.match(
    store.lastErrors().find((e) => e.entry === "e")?.message ?? "",
    /not submitting until .*403 Forbidden/,
  );
  // After it: tried again; refused again, the pause doubles (60 s).
  now += 15_000;
  await runCycle(deps);
  assert.equal(calls, 2);
  now += 45_000;
  await runCycle(deps);
  assert.equal(calls, 2, "the second pause is longer");
  // The CE accepts again: submissions resume and the pause is forgotten.
  refusing = false;
  now += 20_000;
  assert.equal((await runCycle(deps)).submitted, 2);
  const last = advertised.filter((a) => a.MyType === '"GlideFactory"').at(-1)!;
  assert.equal(last.GlideinMonitorSubmitFailures, "0");
  store.close();
});

test("a credential is decrypted once while requests repeat it, and deleted once nothing uses it", async () => {
  const work = mkdtempSync(join(dir, "creds-"));
  const pilotScript = join(work, "pilot.sh");
  writeFileSync(pilotScript, "#!/bin/sh\nsleep 600\n", { mode: 0o755 });
  const { config, request, keys } = oneEntryWorld(work, {
    gridtype: "local",
    pilot: { command: pilotScript },
  });
  let requests = [request];
  // The collector's side is not under test here: a stand-in that returns the request.
  const collector = {
    advertise: async () => [],
    query: async (q: { type?: string }) => (q.type === "GlideClient" ? requests : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const adapter = createLocalAdapter(
    { slots: 4, kill_grace_s: 0 },
    { stateDir: join(work, "local"), logger: pino({ level: "silent" }), now: Date.now },
  );
  after(() => adapter.close());
  const store = new FactoryStore(join(work, "f.db"));
  const credentialDir = join(work, "creds");
  const deps = {
    config,
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: pino({ level: "silent" }),
    now: Date.now,
    keys,
    credentialDir,
    credentialCache: new CredentialCache(),
  };
  const files = () =>
    existsSync(join(credentialDir, "fe.g")) ? readdirSync(join(credentialDir, "fe.g")).sort() : [];

  assert.equal((await runCycle(deps)).submitted, 2);
  const [file] = files();
  assert.match(file ?? "", /^credential-[0-9a-f]{16}$/);
  const path = join(credentialDir, "fe.g", file!);
  assert.equal(readFileSync(path, "utf8"), "secret");
  const inode = statSync(path).ino;
  // A torn write of an earlier run, and a file that is not the factory's.
  writeFileSync(join(credentialDir, "fe.g", `${file}.tmp`), "sec");
  writeFileSync(join(credentialDir, "fe.g", "notes.txt"), "mine");

  await runCycle(deps);
  assert.equal(statSync(path).ino, inode, "the same ciphertext is not decrypted and written again");
  assert.deepEqual(files(), [file, "notes.txt"], "the torn write is gone");

  // No more requests, but the pilots still run with it.
  requests = [];
  for (let i = 0; i < 3; i++) await runCycle(deps);
  assert.deepEqual(files(), [file, "notes.txt"]);

  await adapter.remove(store.live().map((p) => p.handle!));
  // The removed pilots' processes end in their own time (a loaded machine takes seconds): cycles
  // go on until the factory has seen every one gone, then once more for the clean-up.
  const deadline = Date.now() + 60_000;
  while (store.live().length > 0 && Date.now() < deadline) {
    await runCycle(deps);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(store.live().length, 0, "the removed pilots are seen gone");
  await runCycle(deps);
  assert.deepEqual(files(), ["notes.txt"], "deleted once no request and no pilot uses it");
  store.close();
});

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { ClassAd } from "../../src/classad/index.js";
import type { CollectorClient } from "../../src/collector/client.js";
import type { GridAdapter, PilotStatus } from "../../src/factory/adapters/types.js";
import { type FactoryConfigInput, factoryConfigSchema } from "../../src/factory/config.js";
import { runCycle } from "../../src/factory/cycle.js";
import { createEntryBudget, withinBudget } from "../../src/factory/entry-caps.js";
import { FactoryStore } from "../../src/factory/store.js";
import { encryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-caps-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a budget gives each entry at most its limit per cycle, across calls", () => {
  const b = createEntryBudget((e) => (e === "a" ? 5 : 2));
  assert.equal(b.take("a", 3), 3);
  assert.equal(b.take("a", 3), 2, "only what is left of 5");
  assert.equal(b.take("a", 1), 0);
  assert.equal(b.take("b", 10), 2, "another entry has its own budget");
  assert.equal(b.spent("a"), 5);
  assert.equal(b.take("c", -1), 0, "nothing asked, nothing spent");
  const split = withinBudget(
    ["a1", "b1", "b2", "b3"],
    (x) => x[0]!,
    createEntryBudget(() => 2),
  );
  assert.deepEqual(split, { kept: ["a1", "b1", "b2"], deferred: ["b3"] });
});

test("remove and release caps default to glideinWMS's 5 and 20, and an entry may override either", () => {
  const cfg = config({ remove: { max_per_cycle: 2 } });
  assert.deepEqual(cfg.defaults.remove, { max_per_cycle: 5 });
  assert.deepEqual(cfg.defaults.release, { max_per_cycle: 20 });
  assert.deepEqual(cfg.entries[0]!.remove, { max_per_cycle: 2 });
  assert.deepEqual(cfg.entries[0]!.release, { max_per_cycle: 20 });
  assert.throws(() => config({ remove: { max_per_cycle: 0 } }), /max_per_cycle/);
  // @ts-expect-error an unknown key, refused at load
  assert.throws(() => config({ release: { max: 3 } }), /max/);
});

function config(entry: Partial<FactoryConfigInput["entries"][number]> = {}) {
  return factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: {
      cert_file: "x",
      key_file: "x",
      rsa_private_key_file: "x",
      rsa_public_key_file: "x",
    },
    work_dir: dir,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "e", gridtype: "fake", pilot: { command: "/bin/true" }, ...entry }],
  });
}

/**
 * A factory cycle over a stand-in CE (a fake: no CE runs here) whose 30 pilots are all held at
 * once, as a site's mass hold would have them.
 */
async function massHold(recoverable: boolean) {
  const work = mkdtempSync(join(dir, "hold-"));
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const request = new ClassAd()
    .setValue("ReqGlidein", "e@f")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe")
    .setValue("ReqIdleGlideins", 30)
    .setValue("ReqMaxGlideins", 30)
    .setValue("GlideinEncParamCredential", encryptCredential("secret", publicPem))
    .toJSON();
  let asked = true;
  const collector = {
    advertise: async () => [],
    query: async () => (asked ? [request] : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const states = new Map<string, PilotStatus>();
  const removed: string[] = [];
  const released: string[] = [];
  const adapter: GridAdapter = {
    gridtype: "fake",
    capabilities: { release: true, maxBatch: 100, output: false },
    async submit(batch) {
      return batch.map((p) => {
        states.set(`h${p.intentId}`, { handle: `h${p.intentId}`, state: "Idle" });
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    status: async (hs) => new Map(hs.map((h) => [h, states.get(h)!])),
    async remove(hs) {
      removed.push(...hs);
      for (const h of hs) states.set(h, { handle: h, state: "Removed" });
    },
    async release(hs) {
      released.push(...hs);
      for (const h of hs) states.set(h, { handle: h, state: "Idle" });
    },
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () => [],
    close: async () => undefined,
  };
  const store = new FactoryStore(join(work, "f.db"));
  let now = Date.UTC(2026, 0, 1);
  const deps = {
    config: { ...config(), work_dir: work },
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: pino({ level: "silent" }),
    now: () => now,
    keys: {
      privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      publicPem,
      id: pubKeyId(publicPem),
    },
    credentialDir: join(work, "creds"),
  };
  assert.equal((await runCycle(deps)).submitted, 30);
  asked = false;
  for (const [h] of states) {
    states.set(h, {
      handle: h,
      state: "Held",
      holdReason: "CE lost",
      holdRecoverable: recoverable,
    });
  }
  const cycle = async () => {
    now += 3600_000; // past every release back-off
    return runCycle(deps);
  };
  return { cycle, removed, released, close: () => store.close() };
}

test("a mass hold is removed 5 pilots per cycle per entry, not all at once", async () => {
  const w = await massHold(false);
  const first = await w.cycle();
  assert.equal(first.removed, 5);
  assert.equal(w.removed.length, 5);
  await w.cycle();
  assert.equal(w.removed.length, 10, "the rest waits for later cycles");
  assert.equal(new Set(w.removed).size, 10, "each pilot removed once");
  w.close();
});

test("recoverable holds are released 20 per cycle per entry", async () => {
  const w = await massHold(true);
  assert.equal((await w.cycle()).released, 0, "the cycle that sees the holds waits the back-off");
  const first = await w.cycle();
  assert.equal(first.released, 20);
  assert.equal(w.released.length, 20);
  await w.cycle();
  assert.equal(w.released.length, 30, "the other 10 in the next cycle");
  assert.equal(new Set(w.released).size, 30);
  w.close();
});

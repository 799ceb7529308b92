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
import { factoryConfigSchema } from "../../src/factory/config.js";
import { runCycle } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import {
  afterValidation,
  MAX_FAILURE_TEXT,
  pauseReason,
  type ValidationBackoff,
} from "../../src/factory/validation-backoff.js";
import { encryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-vbackoff-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const policy = { afterFailures: 3, pauseMs: 60_000, maxPauseMs: 200_000 };
const failedPilot = { validationOk: false, failureClass: "WN_Resource", failureMessage: "no disk" };

test("a pause starts at the threshold, doubles per further failure up to the ceiling, and one good pilot ends it", () => {
  let s: ValidationBackoff | undefined;
  const untils: number[] = [];
  for (let i = 0; i < 6; i++) {
    s = afterValidation(s, failedPilot, 1000, policy);
    untils.push(s!.until);
  }
  assert.deepEqual(untils, [0, 0, 61_000, 121_000, 201_000, 201_000]);
  assert.equal(s!.failures, 6);
  assert.equal(s!.lastFailure, "WN_Resource: no disk");
  assert.match(pauseReason(s, 2000) ?? "", /last 6 pilot\(s\) failed validation \(WN_Resource/);
  assert.equal(pauseReason(s, 201_000), undefined, "the pause ends");
  assert.equal(
    afterValidation(s, { validationOk: undefined }, 1000, policy),
    s,
    "no report: no news",
  );
  assert.equal(afterValidation(s, { validationOk: true }, 1000, policy), undefined);
});

test("the failure text from the node is printable and bounded before it reaches an ad", () => {
  const s = afterValidation(
    undefined,
    {
      validationOk: false,
      failureClass: "Config",
      failureMessage: `a\nb\u0000${"x".repeat(5000)}`,
    },
    0,
    policy,
  );
  assert.equal(s!.lastFailure!.length, MAX_FAILURE_TEXT);
  assert.match(s!.lastFailure!, /^Config: a\?b\?x+\.\.\.$/);
});

function report(ok: boolean): string {
  const body = {
    version: 1,
    pilotId: "p",
    host: "h",
    startedAt: "",
    endedAt: "",
    idleS: 0,
    durationS: 1,
    validation: ok
      ? { ok: true, checks: [] }
      : {
          ok: false,
          failure: { class: "Corruption", message: "runtime/node.tgz: hash differs" },
          checks: [],
        },
    jobs: [],
    exit: ok
      ? { reason: "idle", code: 0 }
      : {
          reason: "validation",
          code: 16,
          failureClass: "Corruption",
          message: "runtime/node.tgz: hash differs",
        },
  };
  return `=== Pilot report begin ===\n${JSON.stringify(body)}\n=== Pilot report end ===\n`;
}

test("an entry whose pilots keep failing validation gets no pilots for a while, and its GlideFactory ad says why", async () => {
  const work = mkdtempSync(join(dir, "cycle-"));
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const config = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: {
      cert_file: "x",
      key_file: "x",
      rsa_private_key_file: "x",
      rsa_public_key_file: "x",
    },
    work_dir: work,
    defaults: { validation_backoff: { after_failures: 2, pause_s: 600 } },
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "e", gridtype: "fake", pilot: { command: "/bin/true" } }],
  });
  assert.equal(config.defaults.validation_backoff.max_pause_s, 7200, "defaults fill the rest");
  const request = new ClassAd()
    .setValue("ReqGlidein", "e@f")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe")
    .setValue("ReqIdleGlideins", 2)
    .setValue("ReqMaxGlideins", 10)
    .setValue("GlideinEncParamCredential", encryptCredential("secret", publicPem))
    .toJSON();
  const advertised: Record<string, string>[] = [];
  const collector = {
    advertise: async (ads: Record<string, string>[]) => {
      advertised.push(...ads);
      return [];
    },
    query: async () => [request],
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  // A stand-in CE (fake: none runs here) whose pilots finish at once with the report we choose.
  const states = new Map<string, PilotStatus>();
  let nodeBroken = true;
  let submitted = 0;
  const adapter: GridAdapter = {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 10, output: true },
    async submit(batch) {
      submitted += batch.length;
      return batch.map((p) => {
        states.set(`h${p.intentId}`, { handle: `h${p.intentId}`, state: "Finished", exitCode: 0 });
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    status: async (hs) => new Map(hs.map((h) => [h, states.get(h)!])),
    remove: async () => undefined,
    fetchOutput: async () => ({ stdout: report(!nodeBroken), stderr: "" }),
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
    keys: {
      privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      publicPem,
      id: pubKeyId(publicPem),
    },
    credentialDir: join(work, "creds"),
    validationBackoff: new Map(),
  };
  const factoryAd = () => advertised.filter((a) => a.MyType === '"GlideFactory"').at(-1)!;
  await runCycle(deps); // submits 2
  assert.equal(submitted, 2);
  now += 60_000;
  await runCycle(deps); // both finish failing validation: paused, nothing submitted
  assert.equal(submitted, 2, "no pilots while the entry's pilots fail validation");
  assert.equal(factoryAd().GlideinMonitorValidationFailures, "2");
  assert.equal(factoryAd().GlideinValidationBackoffUntil, String((now + 600_000) / 1000));
  assert.equal(
    factoryAd().GlideinValidationLastFailure,
    '"Corruption: runtime/node.tgz: hash differs"',
  );
  assert.match(
    store.lastErrors().find((e) => e.entry === "e")?.message ?? "",
    /not submitting until .* failed validation \(Corruption/,
  );
  now += 300_000;
  await runCycle(deps);
  assert.equal(submitted, 2, "still within the pause");
  // The pause ends; the node is mended; the next pilots validate and the pause is forgotten.
  nodeBroken = false;
  now += 301_000;
  await runCycle(deps);
  assert.equal(submitted, 4);
  now += 60_000;
  await runCycle(deps);
  assert.equal(factoryAd().GlideinMonitorValidationFailures, "0");
  assert.equal(factoryAd().GlideinValidationBackoffUntil, "0");
  store.close();
});

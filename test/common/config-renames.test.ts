import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { pino } from "pino";
import { z } from "zod";
import { ConfigError, parseConfig } from "../../src/common/config.js";
import {
  applyRenames,
  configDeprecations,
  logConfigDeprecations,
  type KeyRename,
} from "../../src/common/config-renames.js";

const RENAMES: KeyRename[] = [
  { from: "lease_minutes", to: "lease_s", scale: 60 },
  { from: "cert_file", to: "tls.cert_file" },
  { from: "entries.*.stale.idle", to: "entries.*.stale.idle_s" },
];

const schema = z
  .object({
    lease_s: z.number().default(1200),
    tls: z.object({ cert_file: z.string() }).strict(),
    entries: z
      .array(
        z
          .object({
            name: z.string(),
            stale: z.object({ idle_s: z.number().optional() }).strict().default({}),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

test("old keys move to their new place, converted to seconds, in every list item", () => {
  const raw = {
    lease_minutes: 20,
    cert_file: "/c.pem",
    entries: [{ name: "a", stale: { idle: 5 } }, { name: "b" }, { name: "c", stale: { idle: 7 } }],
  };
  const { problems, deprecations } = applyRenames(raw, RENAMES);
  assert.deepEqual(problems, []);
  assert.deepEqual(raw, {
    lease_s: 1200,
    tls: { cert_file: "/c.pem" },
    entries: [
      { name: "a", stale: { idle_s: 5 } },
      { name: "b" },
      { name: "c", stale: { idle_s: 7 } },
    ],
  });
  // One per old key, however many places used it.
  assert.deepEqual(
    deprecations.map((d) => d.from),
    ["lease_minutes", "cert_file", "entries.*.stale.idle"],
  );
  assert.match(deprecations[0]!.message, /write lease_s \(in seconds: the old value times 60\)/);
});

test("both spellings of one key, or an old key under a non-block, are refused", () => {
  const both = applyRenames({ lease_minutes: 1, lease_s: 60 }, RENAMES);
  assert.deepEqual(
    both.problems.map((p) => p.path),
    ["lease_s"],
  );
  const scalar = applyRenames({ cert_file: "/c.pem", tls: "yes" }, RENAMES);
  assert.deepEqual(scalar.problems, [{ path: "tls", message: "must be a block" }]);
});

test("a file in the old spelling loads; each old key is logged once through the logger", () => {
  const text =
    "lease_minutes: 2\ncert_file: /c.pem\nentries:\n  - { name: a, stale: { idle: 1 } }\n  - { name: b, stale: { idle: 2 } }\n";
  const cfg = parseConfig(schema, text, "old.yaml", {}, RENAMES);
  assert.equal(cfg.lease_s, 120);
  assert.equal(cfg.entries[1]!.stale.idle_s, 2);
  const lines: { msg: string; old_key: string; new_key: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  logConfigDeprecations(pino({ level: "info" }, sink), cfg);
  assert.deepEqual(
    lines.map((l) => [l.level, l.old_key, l.new_key]),
    [
      [40, "lease_minutes", "lease_s"],
      [40, "cert_file", "tls.cert_file"],
      [40, "entries.*.stale.idle", "entries.*.stale.idle_s"],
    ],
  );
  const fresh = parseConfig(schema, "tls: { cert_file: /c.pem }\n", "new.yaml", {}, RENAMES);
  assert.deepEqual(configDeprecations(fresh), []);
});

test("a bad value under an old key is reported at the new path with the file's line", () => {
  assert.throws(
    () => parseConfig(schema, "cert_file: /c\nlease_minutes: soon\n", "x.yaml", {}, RENAMES),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 1 &&
      err.problems[0]!.path === "lease_s" &&
      err.problems[0]!.line === 2,
  );
});

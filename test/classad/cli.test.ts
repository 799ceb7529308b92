import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { REPO_ROOT } from "./shared-files.js";

const bin = join(REPO_ROOT, "bin/updraft.js");
const dir = mkdtempSync(join(tmpdir(), "updraft-classad-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function updraft(args: string[], input?: string, env?: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [bin, ...args], {
    input,
    encoding: "utf8",
    env: env === undefined ? process.env : { ...process.env, ...env },
  });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test("eval prints the value in ClassAd syntax, with MY and TARGET from files of either syntax", () => {
  assert.equal(updraft(["classad", "eval", "1 + 2 * 3"]).stdout, "7\n");
  assert.equal(
    updraft(["classad", "eval", '{1, "a", 0.5}']).stdout,
    '{ 1,"a",5.000000000000000E-01 }\n',
  );
  const my = file("my.ad", "x = 7\nz = 10\n");
  const target = file("target.ad", "[ x = 8; y = 9 ]");
  const run = updraft(["classad", "eval", "x + y + TARGET.x", "--my", my, "--target", target]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "24\n");
  assert.equal(updraft(["classad", "eval", "MY.z", "--my", "-"], "[z = 3]").stdout, "3\n");
  // An expression may start with '-' (it is not an option).
  assert.equal(updraft(["classad", "eval", "-x ?: 1"]).stdout, "-1\n");
});

test("eval reports a parse error with line and column on stderr and exits 1", () => {
  const run = updraft(["classad", "eval", "(1 + 2"]);
  assert.equal(run.status, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /line 1, column 7: expected '\)' but found end of input/);
  const bad = file("bad.ad", "[\n a = 1;\n b = ;\n]");
  const fromFile = updraft(["classad", "eval", "a", "--my", bad]);
  assert.equal(fromFile.status, 1);
  assert.match(fromFile.stderr, /bad\.ad: line 3, column 6:/);
});

test("eval --jsonl answers every line in order, parse errors and malformed JSON included", () => {
  const input = [
    '{"expr": "1 + 1"}',
    "not json",
    '{"expr": "x", "my": "[x = 9007199254740993]"}',
    '{"expr": "(1"}',
    '{"expr": "y", "my": "[x = 1]", "target": "[y = 0.5]"}',
    '{"expr": "0.0 / 0"}',
    '{"expr": "-7.0 / 0"}',
    '{"expr": "{1, \\"a\\"}"}',
    '{"expr": "[a = 1]"}',
    '{"expr": "undefined"}',
    '{"expr": "1/0"}',
    '{"expr": "\\"s\\" == \\"S\\""}',
    '{"expr": "a", "my": "[a = "}',
  ].join("\n");
  const run = updraft(["classad", "eval", "--jsonl"], input);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 13);
  assert.equal(lines[0], '{"type":"integer","value":2}');
  assert.match(lines[1]!, /^\{"type":"parse-error","message":"line 2: /);
  assert.equal(lines[2], '{"type":"integer","value":9007199254740993}');
  assert.match(lines[3]!, /^\{"type":"parse-error","message":"line 1, column 3: /);
  assert.equal(lines[4], '{"type":"real","value":0.5}');
  assert.equal(lines[5], '{"type":"real","value":"NaN"}');
  assert.equal(lines[6], '{"type":"real","value":"-INF"}');
  assert.deepEqual(JSON.parse(lines[7]!), {
    type: "list",
    value: [
      { type: "integer", value: 1 },
      { type: "string", value: "a" },
    ],
    text: '{ 1,"a" }',
  });
  assert.equal(lines[8], '{"type":"classad","value":"[ a = 1 ]"}');
  assert.equal(lines[9], '{"type":"undefined"}');
  assert.equal(lines[10], '{"type":"error"}');
  assert.equal(lines[11], '{"type":"boolean","value":true}');
  assert.match(lines[12]!, /parse-error/);
});

test("eval --jsonl prints time values with their type and text", () => {
  const input = [
    '{"expr": "absTime(\\"2024-01-01T00:00:00Z\\") + relTime(\\"1:00\\")"}',
    '{"expr": "relTime(\\"1d2h3m4s\\")"}',
    // No zone in the text: local time, which the child's TZ fixes.
    '{"expr": "absTime(\\"2024-07-01\\")"}',
  ].join("\n");
  const run = updraft(["classad", "eval", "--jsonl"], input, { TZ: "Asia/Kolkata" });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.stdout.trimEnd().split("\n"), [
    '{"type":"abstime","value":"absTime(\\"2024-01-01T00:01:00+00:00\\")"}',
    '{"type":"reltime","value":"relTime(\\"1+02:03:04\\")"}',
    '{"type":"abstime","value":"absTime(\\"2024-07-01T00:00:00+05:30\\")"}',
  ]);
});

test("eval --jsonl answers each of 10,000 lines, in order", () => {
  const input = Array.from(
    { length: 10_000 },
    (_, i) => `{"expr": "${i} * 2 + x", "my": "[x = 1]"}`,
  ).join("\n");
  const run = updraft(["classad", "eval", "--jsonl"], input);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 10_000);
  assert.equal(lines[0], '{"type":"integer","value":1}');
  assert.equal(lines[9999], '{"type":"integer","value":19999}');
});

test("match prints both directions, the result and the rank; exit status says whether they match", () => {
  const job = file(
    "job.ad",
    '[ Owner = "alice"; Requirements = TARGET.Memory >= 1024; Rank = TARGET.Mips ]',
  );
  const slot = file(
    "slot.ad",
    'Memory = 2048\nMips = 1500\nRequirements = TARGET.Owner == "alice"\n',
  );
  const small = file("small.ad", "[ Memory = 512; Requirements = true ]");
  const yes = updraft(["classad", "match", job, slot]);
  assert.equal(yes.status, 0, yes.stderr);
  assert.match(yes.stdout, /symmetric match: true/);
  assert.match(yes.stdout, /job rank of the slot: 1500/);
  const no = updraft(["classad", "match", "--json", job, small]);
  assert.equal(no.status, 1);
  const broken = updraft(["classad", "match", job, file("broken.ad", "[ Memory = ")]);
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /broken\.ad: line 1, column 12:/);
  assert.deepEqual(JSON.parse(no.stdout), {
    jobMatchesSlot: false,
    slotMatchesJob: true,
    match: false,
    rank: 0,
  });
});

test("every classad command has --help", () => {
  for (const args of [["classad"], ["classad", "eval"], ["classad", "match"]]) {
    const run = updraft([...args, "--help"]);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Usage: updraft classad/);
  }
});

/**
 * Peer suite: shared/classad/public-sample.jsonl (HTCondor's values for each case) run through
 * the real command, `updraft classad eval --jsonl`, one subtest per line.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { REPO_ROOT, readSharedFile } from "./shared-files.js";

/** The exact text of an integer `value` in a JSON line (JSON.parse would round big ones). */
function integerText(line: string): string | undefined {
  return /"value"\s*:\s*(-?\d+)\s*[,}]/.exec(line)?.[1];
}

test("public-sample.jsonl through updraft classad eval --jsonl", async (t) => {
  const lines = readSharedFile("public-sample.jsonl")
    .split("\n")
    .filter((l) => l.trim() !== "");
  const cases = lines.map((line) => {
    const { expect, ...request } = JSON.parse(line) as { expect: Record<string, unknown> };
    const rawExpect = line.slice(line.indexOf('"expect"'));
    return { request: JSON.stringify(request), expect, rawExpect, line };
  });
  const run = spawnSync(
    process.execPath,
    [`${REPO_ROOT}bin/updraft.js`, "classad", "eval", "--jsonl"],
    { input: cases.map((c) => c.request).join("\n") + "\n", encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  const outputs = run.stdout.split("\n").filter((l) => l !== "");
  assert.equal(outputs.length, cases.length, "one output line per input line");
  for (let i = 0; i < cases.length; i++) {
    const { expect, line } = cases[i]!;
    const output = outputs[i]!;
    await t.test(`line ${i + 1}: ${(JSON.parse(line) as { expr: string }).expr}`, () => {
      const got = JSON.parse(output) as Record<string, unknown>;
      assert.equal(got.type, expect.type, `got ${output}`);
      if (expect.type === "integer") {
        assert.equal(integerText(output), integerText(cases[i]!.rawExpect), `got ${output}`);
      } else if ("value" in expect) {
        assert.deepEqual(got.value, expect.value, `got ${output}`);
      }
    });
  }
});

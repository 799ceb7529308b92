/** What the pilot says about its memory when jobs run without isolation, by Yama's ptrace_scope. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pilotMemoryExposure } from "../../src/pilot/runner/isolation.js";

test("without Yama or at scope 0 a job can attach to its pilot; at 1 to 3 it cannot", () => {
  assert.deepEqual(pilotMemoryExposure(undefined), {
    exposed: true,
    why: "the kernel has no Yama ptrace_scope: same-user ptrace is allowed",
  });
  assert.equal(pilotMemoryExposure("0\n").exposed, true);
  for (const s of ["1\n", "2\n", "3\n"]) {
    const r = pilotMemoryExposure(s);
    assert.equal(r.exposed, false, s);
    assert.match(r.why, /a job cannot attach to its pilot/);
  }
});

test("an unexpected ptrace_scope text counts as exposed and is quoted short", () => {
  const r = pilotMemoryExposure(`9${"x".repeat(500)}`);
  assert.equal(r.exposed, true);
  assert.ok(r.why.length < 60, r.why);
});

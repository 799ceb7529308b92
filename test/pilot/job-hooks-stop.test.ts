/**
 * A job's pre- and post-job scripts never hold a stopping pilot: a pilot stop kills a running
 * script at once, and a script whose descendant keeps its stderr open still counts as done when
 * the script itself exits.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { runHook, startHookedJob } from "../../src/pilot/runner/job-hooks.js";
import { jobSpecFromAd } from "../../src/pilot/runner/job-spec.js";

const root = mkdtempSync(join(tmpdir(), "updraft-hooks-stop-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function spec(ad = '[ Cmd = "/bin/true"; TransferExecutable = false ]') {
  const dir = mkdtempSync(join(root, "job"));
  const r = jobSpecFromAd(`1.${++n}`, ClassAd.parse(ad), dir, {});
  assert.ok(r.ok);
  return r.spec;
}

function script(name: string, body: string): string {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o700);
  return path;
}

const LONG = 120_000;

test("a pilot stop kills a running pre-job script and hands the job back at once", async () => {
  const pre = script("slow-pre.sh", "sleep 60");
  const job = startHookedJob(spec(), { pollMs: 50 }, { preJob: { path: pre, timeoutMs: LONG } });
  setTimeout(() => job.kill("pilot-stop"), 200);
  const started = Date.now();
  const out = await job.done;
  assert.equal(out.exitCode, null, "the job never ran");
  assert.equal(out.killed?.kind, "pilot-stop");
  assert.ok(Date.now() - started < LONG / 2, "not held for the script's limit");
});

test("a pilot stop during the post-job script kills it; the job's own outcome stands", async () => {
  const post = script("slow-post.sh", "sleep 60");
  const job = startHookedJob(spec(), { pollMs: 50 }, { postJob: { path: post, timeoutMs: LONG } });
  setTimeout(() => job.kill("pilot-stop"), 500);
  const out = await job.done;
  assert.equal(out.exitCode, 0, "/bin/true ran and its exit code is kept");
});

test(
  "a script whose descendant left its group and keeps stderr open is done when it exits",
  { timeout: 20_000 },
  async () => {
    // setsid puts the sleeper in a session of its own, out of reach of the group kill, with the
    // script's stderr still open; waiting for the pipe to close would take its 60 s.
    const pidFile = join(root, "sleeper.pid");
    const hook = script(
      "leaves-child.sh",
      `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' &\nexit 0`,
    );
    after(() => {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
      } catch {
        // already gone
      }
    });
    const r = await runHook({ path: hook, timeoutMs: LONG }, spec(), process.env);
    assert.deepEqual(r, { ok: true });
  },
);

test("a stop signal already given means the script is not started", async () => {
  const marker = join(root, "ran");
  const hook = script("marks.sh", `touch ${marker}`);
  const stop = new AbortController();
  stop.abort();
  const r = await runHook({ path: hook, timeoutMs: LONG }, spec(), process.env, stop.signal);
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.message, /pilot is stopping/);
  await assert.rejects(import("node:fs/promises").then((f) => f.stat(marker)));
});

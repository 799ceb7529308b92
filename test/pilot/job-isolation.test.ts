/**
 * Jobs in their own user, mount and pid namespaces, with each tool (bubblewrap and util-linux
 * unshare; both need user namespaces, as this machine and CI have): the pilot's /proc entries
 * and directories are out of the job's reach, the job cannot unmount what covers them, its
 * sandbox stays at its own path, and exit statuses, signals, kills and start failures read as
 * they do without isolation. Jobs start through a job launcher process, as a pilot's do.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { jobSpecFromAd } from "../../src/pilot/runner/job-spec.js";
import { coverList, detectIsolation } from "../../src/pilot/runner/isolation.js";
import { createProcessLauncher } from "../../src/pilot/runner/launcher.js";
import { startJob } from "../../src/pilot/runner/run-job.js";

const root = mkdtempSync(join(tmpdir(), "updraft-isolation-"));
const launcher = createProcessLauncher();
before(async () => assert.equal(await launcher.ready(), true));
after(async () => {
  await launcher.close();
  rmSync(root, { recursive: true, force: true });
});
// A pilot's layout: the bootstrap's directory holding the pilot's work directory.
const bootstrapDir = join(root, "updraft-pilot.7");
const workDir = join(bootstrapDir, "run");
mkdirSync(join(workDir, "execute"), { recursive: true });
writeFileSync(join(bootstrapDir, "credential"), "SECRET-PILOT-KEY", { mode: 0o600 });
writeFileSync(join(workDir, "pilot-state"), "SECRET-PILOT-STATE", { mode: 0o600 });

let n = 0;

function spec(ad: string) {
  const dir = join(workDir, "execute", `dir_${++n}`);
  mkdirSync(dir);
  const r = jobSpecFromAd(`1.${n}`, ClassAd.parse(ad), dir, {});
  assert.ok(r.ok);
  return r.spec;
}

const shell = (script: string) =>
  `[ Cmd = "/bin/sh"; TransferExecutable = false; Arguments = "-c '${script}'"; Out = "out"; Err = "err" ]`;

for (const tool of ["bwrap", "unshare"] as const) {
  const isolation = await detectIsolation(workDir, [bootstrapDir], "auto", [tool]);

  test(`${tool}: detected on this machine, covering the work and bootstrap directories`, () => {
    assert.equal(isolation.kind, "namespaces", JSON.stringify(isolation));
    assert.ok(isolation.kind === "namespaces");
    assert.equal(isolation.tool, tool);
    assert.deepEqual(coverList(isolation.hide, join(workDir, "execute", "dir_1")), [bootstrapDir]);
  });

  test(`${tool}: an isolated job sees neither the pilot's processes nor its directories, and cannot uncover them`, async () => {
    const s = spec(
      shell(
        [
          `echo pid=$$`,
          `echo procs=$(ls /proc | grep -c ^[0-9])`,
          `cat /proc/${process.pid}/environ >/dev/null 2>&1 && echo pilot-environ-readable`,
          `cat ${bootstrapDir}/credential 2>/dev/null`,
          `cat ${workDir}/pilot-state 2>/dev/null`,
          `echo listing=$(ls -A ${bootstrapDir})`,
          `(cd / && umount -l ${bootstrapDir} 2>/dev/null && echo unmounted)`,
          `cat ${bootstrapDir}/credential 2>/dev/null`,
          `echo uid=$(id -u)`,
          `echo here >in-sandbox && cat $_CONDOR_SCRATCH_DIR/in-sandbox`,
        ].join("; "),
      ),
    );
    const out = await startJob(s, { pollMs: 50, isolation, launcher }).done;
    assert.equal(out.exitCode, 0, readFileSync(join(s.sandboxDir, "err"), "utf8"));
    const text = readFileSync(join(s.sandboxDir, "out"), "utf8");
    assert.match(text, /^pid=\d$/m, "a low pid: the job is in its own pid namespace");
    assert.ok(Number(/^procs=(\d+)$/m.exec(text)?.[1]) <= 6, `a fresh /proc: ${text}`);
    assert.doesNotMatch(text, /SECRET|pilot-environ-readable|unmounted/);
    assert.match(text, /^listing=run$/m, "only the path down to the sandbox is there");
    assert.match(text, new RegExp(`^uid=${process.getuid!()}$`, "m"), "the pilot's own uid");
    assert.match(text, /^here$/m, "the sandbox is writable at its own path");
    assert.equal(readFileSync(join(s.sandboxDir, "in-sandbox"), "utf8"), "here\n");
  });

  test(`${tool}: exit statuses, signals, kills and start failures read as without isolation`, async () => {
    const three = await startJob(spec(shell("exit 3")), { isolation, launcher }).done;
    assert.deepEqual([three.exitCode, three.signal], [3, null]);
    const segv = await startJob(spec(shell("kill -SEGV $$")), { isolation, launcher }).done;
    assert.deepEqual([segv.exitCode, segv.signal], [null, "SIGSEGV"]);
    const long = startJob(spec(shell("sleep 30")), { isolation, killGraceMs: 20_000, launcher });
    await new Promise((r) => setTimeout(r, 300));
    long.kill("removed");
    const removed = await long.done;
    assert.deepEqual([removed.signal, removed.killed?.kind], ["SIGTERM", "removed"]);
    assert.ok(removed.wallS < 15, "SIGTERM stopped it; no wait for the SIGKILL grace");
    const missing = await startJob(spec('[ Cmd = "no-such-program" ]'), { isolation, launcher })
      .done;
    assert.equal(missing.startFailure?.code, 6);
    assert.equal(missing.startFailure?.subcode, 2);
  });
}

test("with isolation turned off, or no tool that works, the reason is given", async () => {
  assert.deepEqual(await detectIsolation(workDir, [], "none"), {
    kind: "none",
    reason: "turned off (--job-isolation none)",
  });
  const r = await detectIsolation(workDir, [], "auto", []);
  assert.equal(r.kind, "none");
});

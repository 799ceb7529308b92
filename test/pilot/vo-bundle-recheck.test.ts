/**
 * VO bundle files are checked against the manifest's hash right before every run, not only when
 * the bundle was fetched: a job running as the pilot's user can rewrite them. A start or periodic
 * script, a pre-job script or the VO wrapper whose bytes changed is not run; it fails as
 * Corruption (a periodic check turns START off) or hands the job back naming the file.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { startPeriodicScripts } from "../../src/pilot/periodic-scripts.js";
import { runHook, startHookedJob } from "../../src/pilot/runner/job-hooks.js";
import { jobSpecFromAd } from "../../src/pilot/runner/job-spec.js";
import { runScript } from "../../src/pilot/validate/check-scripts.js";
import { createNodeView } from "../../src/pilot/validate/node-view.js";

const root = mkdtempSync(join(tmpdir(), "updraft-vo-recheck-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A script that leaves a marker when it runs; returns its path and the hash of its bytes. */
function script(name: string, body = "exit 0"): { path: string; sha256: string; ran: string } {
  const path = join(root, name);
  const ran = join(root, `${name}.ran`);
  const text = `#!/bin/sh\ntouch ${ran}\n${body}\n`;
  writeFileSync(path, text);
  chmodSync(path, 0o700);
  return { path, sha256: createHash("sha256").update(text).digest("hex"), ran };
}

/** What a job of the pilot's user could do: replace the script's bytes. */
function tamper(path: string): void {
  writeFileSync(path, "#!/bin/sh\necho owned\n");
}

function spec() {
  const dir = mkdtempSync(join(root, "job"));
  const r = jobSpecFromAd(
    `1.${++n}`,
    ClassAd.parse('[ Cmd = "/bin/true"; TransferExecutable = false ]'),
    dir,
    {},
  );
  assert.ok(r.ok);
  return r.spec;
}

const view = createNodeView({ paths: { workDir: root } });

test("a VO script runs while it matches its hash, and is not run once it was changed", async () => {
  const s = script("start.sh");
  const ok = await runScript(view, { path: s.path, kind: "vo", sha256: s.sha256 }, {}, 30_000);
  assert.equal(ok.ok, true);
  assert.ok(existsSync(s.ran));
  rmSync(s.ran);
  tamper(s.path);
  const bad = await runScript(view, { path: s.path, kind: "vo", sha256: s.sha256 }, {}, 30_000);
  assert.ok(!bad.ok);
  assert.equal(bad.failure.class, "Corruption");
  assert.match(
    bad.failure.message,
    new RegExp(`not run: ${s.path} has SHA-256 [0-9a-f]{64}, expected ${s.sha256}`),
  );
  assert.equal(existsSync(s.ran), false, "the changed script did not run");
});

test("a periodic script changed after the bundle was checked fails its check and turns it off", async (t) => {
  const s = script("periodic.sh");
  tamper(s.path);
  let changes = 0;
  const checks = startPeriodicScripts({
    view,
    scripts: [{ path: s.path, periodMs: 10, sha256: s.sha256 }],
    attrsSoFar: () => ({}),
    timeoutMs: 30_000,
    onChange: () => changes++,
  });
  t.after(() => checks.stop());
  const end = Date.now() + 30_000;
  while (changes === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(checks.ok(), false);
  assert.match(String(checks.attrs().GLIDEIN_PS_FAILURE_REASON), /^Corruption: not run: /);
});

test("a changed pre-job script is not run and a changed VO wrapper hands the job back unrun", async () => {
  const pre = script("pre.sh");
  tamper(pre.path);
  const hook = await runHook(
    { path: pre.path, timeoutMs: 30_000, sha256: pre.sha256 },
    spec(),
    process.env,
  );
  assert.ok(!hook.ok);
  assert.match(hook.message, /not run: .* has SHA-256/);
  assert.equal(existsSync(pre.ran), false);

  const wrapper = script("wrapper.sh", 'exec "$@"');
  const good = startHookedJob(
    spec(),
    { pollMs: 50 },
    { voWrapper: wrapper.path, voWrapperSha256: wrapper.sha256 },
  );
  assert.equal((await good.done).exitCode, 0, "an intact wrapper runs the job");
  assert.ok(existsSync(wrapper.ran));
  rmSync(wrapper.ran);
  tamper(wrapper.path);
  const job = startHookedJob(
    spec(),
    { pollMs: 50 },
    { voWrapper: wrapper.path, voWrapperSha256: wrapper.sha256 },
  );
  const out = await job.done;
  assert.equal(out.exitCode, null, "the job never ran");
  assert.match(out.nodeFault ?? "", /VO job wrapper not run: .* differs from its bundle/);
  assert.equal(existsSync(wrapper.ran), false);
});

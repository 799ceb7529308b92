/**
 * The VO's periodic scripts on a real node view: a script still running when the pilot ends is
 * killed, not waited for (the batch slot is not held for a health check nobody reads); a VO
 * script's attributes never replace the names the system sets.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startPeriodicScripts } from "../../src/pilot/periodic-scripts.js";
import { runScript } from "../../src/pilot/validate/check-scripts.js";
import { createNodeView } from "../../src/pilot/validate/node-view.js";

async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("stopping the periodic scripts kills one still running", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-periodic-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, "pid");
  const script = join(dir, "slow-check.sh");
  // The shell becomes the sleep, so its pid is the one to watch.
  writeFileSync(script, `#!/bin/sh\necho $$ > ${pidFile}\nexec /bin/sleep 600\n`);
  chmodSync(script, 0o755);
  let changes = 0;
  const checks = startPeriodicScripts({
    view: createNodeView({ paths: { workDir: dir } }),
    scripts: [{ path: script, periodMs: 10 }],
    attrsSoFar: () => ({}),
    timeoutMs: 600_000,
    onChange: () => changes++,
  });
  t.after(() => checks.stop());
  await until(
    "the periodic script to start",
    () => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "",
  );
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  assert.ok(alive(pid), "the script runs");
  checks.stop();
  await until("the script to be killed", () => !alive(pid));
  assert.equal(changes, 0, "a killed run is no verdict");
  assert.equal(checks.ok(), true);
});

test("a VO script adds attributes but cannot replace the site, the slot's accounting or the pilot's settings", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-vo-attrs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = JSON.stringify({
    status: "OK",
    attrs: { VO_TAG: "v42", GLIDEIN_Site: "CERN", glidein_entry_name: "X", Cpus: 64, START: true },
  });
  const script = join(dir, "check.sh");
  writeFileSync(script, `#!/bin/sh\necho '${report}'\n`);
  chmodSync(script, 0o755);
  const view = createNodeView({ paths: { workDir: dir } });
  const asVo = await runScript(view, { path: script, kind: "vo" }, {}, 60_000);
  assert.ok(asVo.ok, JSON.stringify(asVo));
  assert.deepEqual(asVo.attrs, { VO_TAG: "v42" }, "only the VO's own attribute is kept");
  // The factory's site scripts are the site's word on its own node and keep every name.
  const asSite = await runScript(view, { path: script, kind: "site" }, {}, 60_000);
  assert.ok(asSite.ok);
  assert.equal(asSite.attrs?.GLIDEIN_Site, "CERN");
});

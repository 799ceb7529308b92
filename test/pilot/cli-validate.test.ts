import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ClassAd } from "../../src/classad/index.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "updraft-cli-validate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) =>
  spawnSync(process.execPath, [bin, "pilot", "validate", "--work-dir", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, UPDRAFT_COLLECTOR: "", UPDRAFT_SCHEDDS: "" },
  });

test("updraft pilot validate passes on this node and prints the slot ad in long form", () => {
  const r = run(["--site", "TEST_SITE", "--attr", "GLIDEIN_CMSSite=T2_XX", "--start", "true"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\[ OK \] disk$/m);
  const ad = ClassAd.parse(r.stdout.slice(r.stdout.indexOf("\n\n") + 2));
  assert.equal(ad.evaluate("MyType"), "Slot");
  assert.equal(ad.evaluate("GLIDEIN_Site"), "TEST_SITE");
  assert.equal(ad.evaluate("GLIDEIN_CMSSite"), "T2_XX");
  assert.equal(ad.evaluate("OpSys"), "LINUX");
  assert.ok((ad.evaluate("Cpus") as number) >= 1);
});

test("--json and a failing VO script: non-zero exit with the failure class", () => {
  const script = join(dir, "vo.sh");
  writeFileSync(
    script,
    `echo '{"status":"ERROR","class":"VO_Config","message":"no experiment software"}'\n`,
  );
  const r = run(["--json", "--vo-script", script]);
  assert.equal(r.status, 14);
  const out = JSON.parse(r.stdout) as { ok: boolean; failure: { class: string }; slotAd?: unknown };
  assert.equal(out.ok, false);
  assert.equal(out.failure.class, "VO_Config");
  assert.equal(out.slotAd, undefined);
});

test("MIN_DISK_GBS beyond the disk fails with WN_Resource", () => {
  const r = run(["--min-disk-gb", "1000000"]);
  assert.equal(r.status, 11);
  assert.match(r.stdout, /\[FAIL\] disk WN_Resource: .*MIN_DISK_GBS is 1000000/);
});

test("--json gives the slot ad's values typed, as condor_status -json does", () => {
  const r = run(["--json", "--site", "TEST_SITE", "--attr", "LoadFactor=0.5", "--start", "true"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; slotAd: Record<string, unknown> };
  assert.equal(out.ok, true);
  assert.equal(out.slotAd.GLIDEIN_Site, "TEST_SITE");
  assert.equal(out.slotAd.LoadFactor, 0.5, "a real is a number, not its text");
  assert.equal(typeof out.slotAd.Cpus, "number");
  assert.equal(out.slotAd.PartitionableSlot, true);
  assert.equal(out.slotAd.Requirements, "/Expr(START)/");
  assert.match(r.stdout, /"Requirements": "\\\/Expr\(START\)\\\/"/);
});

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodeGlideinAttrs, PILOT_ATTRS_ENV } from "../../src/ads/glidein-attrs.js";
import { ClassAd } from "../../src/classad/index.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { jobSpecFromAd } from "../../src/pilot/runner/job-spec.js";
import { startJob } from "../../src/pilot/runner/run-job.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { buildSlotAd } from "../../src/pilot/slot-ad.js";

const root = mkdtempSync(join(tmpdir(), "updraft-vo-attrs-"));
after(() => rmSync(root, { recursive: true, force: true }));

const ATTRS = encodeGlideinAttrs([
  { name: "VO_Software", type: "string", value: "/cvmfs/vo", publish: true, job: true },
  { name: "VO_Tier", type: "int", value: 2, publish: true, job: false },
  { name: "VO_Fast", type: "expr", value: "TotalCpus >= 4", publish: true, job: false },
  { name: "VO_Secret", type: "string", value: "job only", publish: false, job: true },
]);

function settings(env: Record<string, string>) {
  return resolveSettings({}, { GLIDEIN_Site: "Real_Site", ...env }, () => "p1");
}

test("published attributes reach the slot ad typed, expressions as expressions", () => {
  const r = settings({ [PILOT_ATTRS_ENV]: ATTRS });
  assert.ok(r.ok);
  const s = r.settings;
  assert.deepEqual(s.jobEnv, { VO_Software: "/cvmfs/vo", VO_Secret: "job only" });
  const ad = buildSlotAd({
    id: { pilotId: "p1", host: "wn1" },
    nodeAttrs: {},
    published: s.published,
    publishedExprs: s.publishedExprs,
    total: { cpus: 8, memoryMb: 1000, diskKb: 1000, gpus: 0 },
    remaining: { cpus: 8, memoryMb: 1000, diskKb: 1000, gpus: 0 },
    plan: planLifetime({ maxWalltimeS: 3600 }, Date.UTC(2026, 0, 1), () => 0),
    retired: false,
    jobs: [],
    nowMs: Date.UTC(2026, 0, 1),
  });
  const back = ClassAd.parse(ad.toString());
  assert.equal(back.evaluate("VO_Software"), "/cvmfs/vo");
  assert.equal(back.evaluate("VO_Tier"), 2);
  assert.equal(back.evaluate("VO_Fast"), true, "evaluated on the slot against its own TotalCpus");
  assert.equal(back.has("VO_Secret"), false);
  assert.equal(back.evaluate("GLIDEIN_Site"), "Real_Site");
});

test("a list naming the pilot's site or identity stops the pilot at start, with why", () => {
  const hostile = JSON.stringify([
    { n: "GLIDEIN_Site", t: "string", v: "Fake", p: true },
    { n: "AuthenticatedIdentity", t: "string", v: "/CN=admin", p: true },
    { n: "PATH", t: "string", v: "/tmp/evil", j: true },
  ]);
  const r = settings({ [PILOT_ATTRS_ENV]: hostile });
  assert.equal(r.ok, false);
  const text = r.ok ? "" : r.problems.join("\n");
  for (const n of ["GLIDEIN_Site", "AuthenticatedIdentity", "PATH"]) {
    assert.match(text, new RegExp(`${PILOT_ATTRS_ENV}: ${n}: a name the system sets itself`));
  }
});

test("a job sees the VO's variables under its own, and the pilot's scratch over both", async () => {
  const r = settings({ [PILOT_ATTRS_ENV]: ATTRS });
  assert.ok(r.ok);
  const dir = mkdtempSync(join(root, "job"));
  const spec = jobSpecFromAd(
    "1.0",
    ClassAd.parse(
      `[ TransferExecutable = false; Cmd = "/bin/sh"; ` +
        `Arguments = "-c 'echo \\"$VO_Software|$VO_Secret|$_CONDOR_SCRATCH_DIR\\"'"; ` +
        `Environment = "VO_Secret=mine"; Out = "out.txt"; Err = "err.txt" ]`,
    ),
    dir,
    {},
  );
  assert.ok(spec.ok);
  const out = await startJob(spec.spec, { pollMs: 50, voEnv: r.settings.jobEnv }).done;
  assert.equal(out.exitCode, 0);
  assert.equal(readFileSync(join(dir, "out.txt"), "utf8"), `/cvmfs/vo|mine|${dir}\n`);
});

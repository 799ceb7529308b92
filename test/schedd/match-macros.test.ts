/**
 * Match-time macros: `$$(Attr)`, `$$(Attr:default)` and `$$([expr])` are filled from the
 * claiming slot's ad, the pilot gets the expanded job, and the queue and history keep
 * MATCH_<Attr> and MATCH_EXP_<attr> as HTCondor's schedd does.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { codeOf, job, slot, startEnv, submit, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());
afterEach(async () => {
  await env.client("admin").act("remove", { constraint: "true" });
});

const cmsSlot = () =>
  slot({ GLIDEIN_Site: '"Nebraska"', GLIDEIN_CMSSite: '"T2_US_Nebraska"', Cpus: "8" });

test("arguments, environment and attributes are filled from the slot at claim", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [
    job({
      Arguments: '"run $$(GLIDEIN_Site) $$(Missing:none) cpus=$$([Cpus * 2])"',
      Environment: '"SITE=$$(GLIDEIN_CMSSite:Unknown) N=$$(Cpus)"',
      JOB_CMSSite: '"$$(GLIDEIN_CMSSite:Unknown)"',
    }),
  ]);
  const offer = await env.client("pilot").claimJob(cmsSlot());
  assert.equal(offer.jobId, `${c}.0`);
  const got = offer.job!.attrs;
  assert.equal(got.Arguments, '"run Nebraska none cpus=16"');
  assert.equal(got.Environment, '"SITE=T2_US_Nebraska N=8"');
  assert.equal(got.JOB_CMSSite, '"T2_US_Nebraska"');

  const [ad] = await alice.query({ ids: [`${c}.0`] });
  // The queue keeps the macros, so a job that runs again is expanded against its new slot.
  assert.equal(ad!.Arguments, '"run $$(GLIDEIN_Site) $$(Missing:none) cpus=$$([Cpus * 2])"');
  assert.equal(ad!.MATCH_EXP_Arguments, '"run Nebraska none cpus=16"');
  assert.equal(ad!.MATCH_EXP_Environment, '"SITE=T2_US_Nebraska N=8"');
  assert.equal(ad!.MATCH_EXP_JOB_CMSSite, '"T2_US_Nebraska"');
  assert.equal(ad!.MATCH_GLIDEIN_Site, '"Nebraska"');
  assert.equal(ad!.MATCH_Cpus, "8");
  assert.equal(ad!.MATCH_Missing, undefined, "a default is not a slot value");
});

test("glideinWMS's JOB_GLIDEIN_* attributes are recorded for every job, into history", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const offer = await env.client("pilot").claimJob(
    slot({
      GLIDEIN_Site: '"Purdue"',
      GLIDEIN_Factory: '"OSG"',
      GLIDEIN_Name: '"gfactory_instance"',
      GLIDEIN_ClusterId: "1234",
    }),
  );
  assert.equal(offer.job!.attrs.MATCH_EXP_JOB_GLIDEIN_Site, '"Purdue"');
  await env.client("pilot").completeJob({ leaseId: offer.leaseId, exitCode: 0 });
  const [ad] = await alice.query({ ids: [`${c}.0`], history: true });
  assert.equal(ad!.MATCH_EXP_JOB_GLIDEIN_Site, '"Purdue"');
  assert.equal(ad!.MATCH_EXP_JOB_Site, '"Purdue"');
  assert.equal(ad!.MATCH_EXP_JOB_GLIDEIN_Factory, '"OSG"');
  assert.equal(ad!.MATCH_EXP_JOB_GLIDEIN_Name, '"gfactory_instance"');
  assert.equal(ad!.MATCH_EXP_JOB_GLIDEIN_ClusterId, '"1234"');
  assert.equal(ad!.MATCH_EXP_JOB_GLIDEIN_SiteWMS_Slot, '"Unknown"', "absent on the slot");
  assert.equal(ad!.MATCH_EXP_JOB_GLIDEIN_Entry_Name, '"Entry_A"');
  assert.equal(ad!.MATCH_GLIDEIN_Site, '"Purdue"');
  assert.equal(ad!.MATCH_GLIDEIN_ClusterId, "1234");
  assert.equal(ad!.JOB_GLIDEIN_Site, undefined, "the job's own ad is not rewritten");
});

test("a macro the slot cannot fill holds that job and the slot gets the next one", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [
    job({ Arguments: '"$$(GLIDEIN_Gatekeeper)"', JobPrio: "10" }),
    job({ Arguments: '"$$(Bad.Name:x)"', JobPrio: "5" }),
    job({ Arguments: '"plain"' }),
  ]);
  const offer = await env.client("pilot").claimJob(cmsSlot());
  assert.equal(offer.jobId, `${c}.2`);
  const [held, bad] = await alice.query({ ids: [`${c}.0`, `${c}.1`] });
  assert.equal(held!.JobStatus, "5");
  assert.equal(held!.HoldReason, '"Cannot expand $$ expression (GLIDEIN_Gatekeeper)."');
  assert.equal(held!.HoldReasonCode, "0");
  assert.equal(bad!.JobStatus, "5");
  assert.equal(bad!.HoldReason, '"Cannot expand $$ expression (Bad.Name:x)."');
  // Released, it runs on a slot that has the attribute.
  await alice.act("release", { ids: [`${c}.0`] });
  const next = await env
    .client("pilot")
    .claimJob(slot({ GLIDEIN_Gatekeeper: '"ce.example.org:9619"' }));
  assert.equal(next.jobId, `${c}.0`);
  assert.equal(next.job!.attrs.Arguments, '"ce.example.org:9619"');
});

test("a hostile slot value stays inside the job's string and cannot grow without bound", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [
    job({ JOB_Where: '"$$(GLIDEIN_Site)"' }),
    job({ JOB_Big: `"${"$$(Big)".repeat(20)}"` }),
  ]);
  const hostile = 'x" || true || "';
  const offer = await env.client("pilot").claimJob(slot({ GLIDEIN_Site: JSON.stringify(hostile) }));
  assert.equal(offer.jobId, `${c}.0`);
  assert.equal(offer.job!.attrs.JOB_Where, JSON.stringify(hostile), "one string, quote escaped");
  const [big] = await alice.query({ ids: [`${c}.1`] });
  assert.equal(big!.JobStatus, "1", "not yet claimed");
  const second = await env
    .client("pilot")
    .claimJob(slot({ Big: JSON.stringify("y".repeat(8000)) }));
  assert.equal(second.matched, false, "160,000 characters is past the bound");
  const [after] = await alice.query({ ids: [`${c}.1`] });
  assert.equal(after!.JobStatus, "5");
  assert.match(after!.HoldReason!, /Cannot expand \$\$ expression \(Big\)/);
});

test("a slot whose GLIDEIN_Site is past the bound holds each job it is offered, claim after claim", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const huge = slot({ GLIDEIN_Site: JSON.stringify("s".repeat(70_000)) });
  assert.equal((await env.client("pilot").claimJob(huge)).matched, false);
  const [first] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(first!.JobStatus, "5");
  assert.match(first!.HoldReason!, /Cannot expand \$\$ expression \(GLIDEIN_Site:Unknown\)/);
  // The same slot ad again: what it gives every job is kept with it, and still refused.
  const d = await submit(alice, [job()]);
  assert.equal((await env.client("pilot").claimJob(huge)).matched, false);
  const [second] = await alice.query({ ids: [`${d}.0`] });
  assert.equal(second!.JobStatus, "5");
  const ok = await env.client("pilot").claimJob(slot({ GLIDEIN_Site: '"Purdue"' }));
  assert.equal(ok.matched, false, "both jobs are held, none is left");
});

test("a $$() outside a string from a client other than updraft submit is refused with what to write", async () => {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  await assert.rejects(
    alice.submitJobs(cluster, [job({ Site: "$$(GLIDEIN_Site)" })]),
    (e) =>
      codeOf(e) === "invalid-argument" &&
      /Site: \$\$\(GLIDEIN_Site\) is outside a string.*\("\$\$\(GLIDEIN_Site\)"\)/.test(
        (e as Error).message,
      ),
  );
  assert.deepEqual(await alice.query({ ids: [String(cluster)] }), [], "nothing queued");
});

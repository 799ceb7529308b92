/**
 * JSON as condor_q writes it, through the real CLI and a real schedd: a CMS Connect-style submit
 * file's attributes come out typed the same way from `submit --dry-run --json`, `q -json` and
 * `history -json` (reals stay reals, undefined is null, lists are arrays, expressions are
 * "\/Expr(...)\/" in the JSON text), and history carries the match-time expansions.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv();
  work = join(env.dir, "cms");
  mkdirSync(work);
  writeFileSync(join(work, "cmsRun.sh"), "#!/bin/sh\necho ran\n");
  writeFileSync(
    join(work, "analysis.sub"),
    [
      "universe = vanilla",
      "executable = cmsRun.sh",
      "arguments = -j $(Process) --site $$(GLIDEIN_CMSSite:T3_Unknown)",
      "output = out/job_$(Cluster)_$(Process).out",
      "error = out/job_$(Cluster)_$(Process).err",
      "request_memory = 2000",
      '+DESIRED_Sites = "T2_US_Nebraska,T2_US_Wisconsin"',
      "+DesiredOS = REQUIRED_OS",
      "+MaxWallTimeMins = 120.0",
      "+LoadFactor = 0.25",
      "+Undecided = undefined",
      '+Tags = {"cms", 2, 2.5}',
      '+JOB_CMSSite = "$$(GLIDEIN_CMSSite:Unknown)"',
      "queue 1",
      "",
    ].join("\n"),
  );
  mkdirSync(join(work, "out"));
});
after(() => env.close());

/** The attributes every form must type alike. */
function checkTyped(ad: Record<string, unknown>, where: string): void {
  assert.equal(ad.DesiredOS, "/Expr(REQUIRED_OS)/", `${where}: an expression is marked`);
  assert.equal(ad.MaxWallTimeMins, 120, `${where}: a real`);
  assert.equal(ad.LoadFactor, 0.25, where);
  assert.equal(ad.Undecided, null, `${where}: undefined is null`);
  assert.deepEqual(ad.Tags, ["cms", 2, 2.5], `${where}: a list is an array`);
  assert.equal(ad.DESIRED_Sites, "T2_US_Nebraska,T2_US_Wisconsin", where);
  assert.equal(ad.RequestMemory, 2000, where);
  assert.equal(typeof ad.Requirements, "string", where);
  assert.match(ad.Requirements as string, /^\/Expr\(.*\)\/$/, where);
}

/** The JSON text itself: reals keep their point, expressions their escaped slashes. */
function checkText(text: string, where: string): void {
  assert.match(text, /"MaxWallTimeMins": 120\.0[,\n]/, `${where}: 120.0 stays a real`);
  assert.match(text, /"DesiredOS": "\\\/Expr\(REQUIRED_OS\)\\\/"/, where);
  assert.match(text, /"Undecided": null/, where);
}

test("dry-run, q and history write the same typed JSON; history keeps MATCH_EXP_*", async () => {
  const dry = await runCli(env, work, ["submit", "--dry-run", "--json", "analysis.sub"]);
  assert.equal(dry.code, 0, dry.stderr);
  checkText(dry.stdout, "dry-run");
  const [dryAd] = JSON.parse(dry.stdout) as Record<string, unknown>[];
  checkTyped(dryAd!, "dry-run");
  assert.equal(dryAd!.Arguments, "-j 0 --site $$(GLIDEIN_CMSSite:T3_Unknown)");

  const sub = await runCli(env, work, ["submit", "analysis.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const cluster = Number(/submitted to cluster (\d+)/.exec(sub.stdout)?.[1]);
  assert.ok(cluster > 0, sub.stdout);

  const q = await runCli(env, work, ["q", String(cluster), "-json"]);
  assert.equal(q.code, 0, q.stderr);
  checkText(q.stdout, "q");
  const [qAd] = JSON.parse(q.stdout) as Record<string, unknown>[];
  checkTyped(qAd!, "q");
  assert.equal(qAd!.Owner, "alice");

  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot({ GLIDEIN_CMSSite: '"T2_US_Nebraska"' }));
  assert.equal(offer.jobId, `${cluster}.0`);
  assert.equal(offer.job!.attrs.Arguments, '"-j 0 --site T2_US_Nebraska"');
  await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });

  const h = await runCli(env, work, ["history", String(cluster), "-json"]);
  assert.equal(h.code, 0, h.stderr);
  checkText(h.stdout, "history");
  const [hAd] = JSON.parse(h.stdout) as Record<string, unknown>[];
  checkTyped(hAd!, "history");
  assert.equal(hAd!.MATCH_EXP_JOB_CMSSite, "T2_US_Nebraska");
  assert.equal(hAd!.MATCH_GLIDEIN_CMSSite, "T2_US_Nebraska");
  assert.equal(hAd!.MATCH_EXP_Arguments, "-j 0 --site T2_US_Nebraska");
  assert.equal(hAd!.MATCH_EXP_JOB_GLIDEIN_Entry_Name, "Entry_A");
  assert.equal(hAd!.JobStatus, 4);
});

test("$$() outside a string is refused at submit as condor_submit refuses it; quoted, the pilot gets the slot's value", async () => {
  const file = (name: string, site: string) =>
    writeFileSync(
      join(work, name),
      ["executable = cmsRun.sh", "request_memory = 100", site, "queue 1", ""].join("\n"),
    );
  file("bare.sub", "+Site = $$(GLIDEIN_CMSSite)");
  const before = await env.client("alice").query({});
  const bare = await runCli(env, work, ["submit", "bare.sub"]);
  assert.notEqual(bare.code, 0);
  assert.match(
    bare.stderr,
    /bare\.sub:3: \$\$\(GLIDEIN_CMSSite\) in \+Site is outside a string.*write \+Site = "\$\$\(GLIDEIN_CMSSite\)"/,
  );
  assert.deepEqual(await env.client("alice").query({}), before, "nothing was queued");

  file(
    "quoted.sub",
    '+Site = "$$(GLIDEIN_CMSSite)"\n+SiteTag = strcat("site-", "$$(GLIDEIN_CMSSite)")',
  );
  const sub = await runCli(env, work, ["submit", "quoted.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const cluster = Number(/submitted to cluster (\d+)/.exec(sub.stdout)?.[1]);
  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot({ GLIDEIN_CMSSite: '"T2_US_Nebraska"' }));
  assert.equal(offer.jobId, `${cluster}.0`);
  assert.equal(offer.job!.attrs.Site, '"T2_US_Nebraska"');
  assert.equal(offer.job!.attrs.SiteTag, 'strcat("site-", "T2_US_Nebraska")');
  // The queue keeps the $$() form, and the expansion the job ran with.
  const [stored] = await env.client("alice").query({ ids: [`${cluster}.0`] });
  assert.equal(stored!.Site, '"$$(GLIDEIN_CMSSite)"');
  assert.equal(stored!.MATCH_EXP_Site, '"T2_US_Nebraska"');
  await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });
});

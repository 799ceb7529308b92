/**
 * A CMS Connect-style submit file on the live demo pool: match-time macros are filled from the
 * real pilot's slot ad (the job sees them, history keeps MATCH_EXP_*), a file the job made comes
 * back renamed by its remaps, its event log reads back event by event, JSON and -af read back
 * typed, and a job no slot can run is explained by q -better-analyze, then removed with rm -all.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { history, jobId, startTestPool, unquote, waitFor, type TestPool } from "./pool-harness.js";
import { explained } from "./pool-inspect.js";
import { parseUserLog } from "../../src/cli/user-log.js";

let tp: TestPool;
before(async () => {
  tp = await startTestPool();
  mkdirSync(join(tp.jobsDir, "out"), { recursive: true });
});
after(async () => {
  await tp?.close();
});

const SITE_JOB = `# What a CMS Connect user writes to learn where each job ran.
universe = vanilla
executable = /bin/sh
transfer_executable = false
arguments = "-c 'echo site=$$(GLIDEIN_Site:Unknown) entry=$WHERE; echo h$(Process) > histos.root'"
environment = "WHERE=$$(GLIDEIN_Entry_Name)"
output = out/site.$(Cluster).$(Process).out
error = out/site.$(Cluster).$(Process).err
log = out/site.$(Cluster).log
transfer_output_remaps = "histos.root = out/histos_$INT(Process,%03d).root"
request_cpus = 1
request_memory = 512 MB
request_disk = 10 MB
+JOB_CMSSite = "$$(GLIDEIN_Site:Unknown)"
+MaxWallTimeMins = 30.0
queue 2
`;

const KEEPER = `executable = /bin/sleep
transfer_executable = false
arguments = 600
request_memory = 64 MB
queue
`;

const TOO_BIG = `executable = /bin/sh
transfer_executable = false
arguments = "-c true"
request_memory = 100 GB
queue
`;

async function submit(name: string, body: string): Promise<number> {
  writeFileSync(join(tp.jobsDir, name), body);
  const r = await tp.cli(["submit", name]);
  const m = /submitted to cluster (\d+)/.exec(r.stdout);
  assert.ok(r.code === 0 && m, `submit ${name}: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

test("$$(...) is filled from the pilot that ran the job, which sees it, and history keeps it", async () => {
  const c = await submit("site.sub", SITE_JOB);
  const done = await explained(
    tp,
    waitFor(
      "both site jobs in history",
      async () => {
        const h = await history(tp, [c]);
        return h.length >= 2 ? h : undefined;
      },
      180_000,
    ),
  );
  for (const j of done) {
    assert.equal(j.JobStatus, "4", `${jobId(j)} completed`);
    const site = unquote(j.MATCH_GLIDEIN_Site)!;
    const entry = unquote(j.MATCH_GLIDEIN_Entry_Name)!;
    assert.ok(site && site !== "Unknown", `${jobId(j)} ran at a named site`);
    assert.equal(unquote(j.MATCH_EXP_JOB_CMSSite), site);
    assert.equal(unquote(j.MATCH_EXP_JOB_GLIDEIN_Site), site);
    assert.equal(unquote(j.MATCH_EXP_Environment), `WHERE=${entry}`);
    assert.match(unquote(j.Arguments)!, /\$\$\(GLIDEIN_Site:Unknown\)/, "the ad keeps the macro");
  }
  const got = await tp.cli(["transfer-output", String(c)]);
  assert.equal(got.code, 0, got.stderr);
  for (const j of done) {
    const text = readFileSync(join(tp.jobsDir, "out", `site.${jobId(j)}.out`), "utf8");
    const site = unquote(j.MATCH_GLIDEIN_Site)!;
    const entry = unquote(j.MATCH_GLIDEIN_Entry_Name)!;
    assert.equal(text, `site=${site} entry=${entry}\n`, `${jobId(j)} saw its slot's values`);
    // No transfer_output_files: the file the job made came back, renamed by the remaps.
    const histos = join(tp.jobsDir, "out", `histos_${String(j.ProcId).padStart(3, "0")}.root`);
    assert.equal(readFileSync(histos, "utf8"), `h${j.ProcId}\n`);
  }

  // The event log, read back event by event: submitted, executing on the job's dynamic slot,
  // terminated normally, for each job, in HTCondor's text format.
  const waited = await tp.cli(["wait", `out/site.${c}.log`, "--timeout", "60"]);
  assert.equal(waited.code, 0, waited.stdout + waited.stderr);
  const events = parseUserLog(readFileSync(join(tp.jobsDir, "out", `site.${c}.log`), "utf8"));
  for (const j of done) {
    const mine = events.filter((e) => e.cluster === c && e.proc === Number(j.ProcId));
    assert.deepEqual(
      mine.map((e) => e.code),
      [0, 1, 5],
      `${jobId(j)}'s events`,
    );
    assert.equal(mine[1]!.details[0], `SlotName: ${unquote(j.LastRemoteHost)}`);
    assert.match(unquote(j.LastRemoteHost)!, /^slot1_\d+@/, "the job's dynamic slot");
    assert.equal(mine[2]!.details[0], "(1) Normal termination (return value 0)");
  }

  const json = await tp.cli(["history", String(c), "-json"]);
  assert.equal(json.code, 0, json.stderr);
  const ads = JSON.parse(json.stdout) as Record<string, unknown>[];
  assert.equal(ads.length, 2);
  for (const ad of ads) {
    assert.equal(ad.MaxWallTimeMins, 30, "a real is a number");
    assert.equal(ad.MATCH_EXP_JOB_CMSSite, ad.MATCH_GLIDEIN_Site);
    assert.match(ad.Requirements as string, /^\/Expr\(.*\)\/$/);
  }
  const af = await tp.cli([
    "history",
    String(c),
    "-af:h",
    "ProcId",
    'strcat("at ", MATCH_GLIDEIN_Site)',
  ]);
  assert.equal(af.code, 0, af.stderr);
  const lines = af.stdout.trimEnd().split("\n");
  assert.equal(lines[0], 'ProcId strcat("at ", MATCH_GLIDEIN_Site)');
  assert.deepEqual(
    lines.slice(1).sort(),
    done.map((j) => `${j.ProcId} at ${unquote(j.MATCH_GLIDEIN_Site)}`).sort(),
  );
});

test("a job no slot can hold is explained by q -better-analyze and removed by rm -all", async () => {
  // A job that keeps a pilot busy meanwhile, so the pool has a pilot to analyse against
  // whether or not the first test's pilots are still there (they leave after 20 s idle). Any
  // Slot ad is not enough: a leaving pilot's ad or a job's dynamic slot would do, and the
  // analysis counts partitionable slots only; so wait for the keeper to run and for a pilot's
  // partitionable slot that lists a running job's dynamic slot.
  const keeper = await submit("keeper.sub", KEEPER);
  await explained(
    tp,
    waitFor(
      "the keeper job running on a pilot in the pool",
      async () => {
        const q = await tp.cli(["q", `${keeper}.0`, "-af", "JobStatus"]);
        if (q.code !== 0 || q.stdout.trim() !== "2") return undefined;
        const r = await tp.cli([
          "status",
          "-constraint",
          "PartitionableSlot =?= true && NumDynamicSlots > 0",
          "-af",
          "Name",
        ]);
        return r.code === 0 && r.stdout.trim() !== "" ? true : undefined;
      },
      180_000,
    ),
  );
  const c = await submit("too-big.sub", TOO_BIG);
  const r = await tp.cli(["q", `${c}.0`, "-better-analyze"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`The Requirements expression for job ${c}\\.000 reduces to these conditions:`),
  );
  assert.match(r.stdout, /^\[\d+\] +0 {2}TARGET\.Memory >= RequestMemory$/m);
  assert.match(r.stdout, /^ +0 slots match and are willing to run your job$/m);
  assert.match(r.stdout, /^Slots by entry \(GLIDEIN_Entry_Name\):$/m);
  assert.match(r.stdout, /No machines matched the job's constraints/);
  // No entry's pilots could hold it either (every entry's GLIDEIN_MaxMemMBs is below 100 GB).
  assert.match(r.stdout, /^Entries for pilots \(GlideFactory ads/m);
  assert.match(r.stdout, /^ +0 entries match, 0 with no pilots yet$/m);
  assert.match(r.stdout, /no factory entry matches it either: no pilot will come for it/);

  const totals = await tp.cli(["q", "-totals"]);
  assert.equal(totals.code, 0, totals.stderr);
  assert.match(totals.stdout, /^Total for query: \d+ jobs; /m);
  assert.match(totals.stdout, /^Total for alice: \d+ jobs; /m);
  assert.match(totals.stdout, /^Total for all users: \d+ jobs; /m);

  const rm = await tp.cli(["rm", "-all"]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout, "All jobs marked for removal.\n");
  const left = await tp.cli(["q", String(c), "-af", "JobStatus"]);
  assert.equal(left.stdout.trim(), "", "the job left the queue");
});

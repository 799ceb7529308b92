/**
 * The job event log (`log = FILE`) in HTCondor's text format: `updraft submit` writes the 000
 * events and `updraft wait LOGFILE` (as condor_wait) appends what happened, spawned as
 * bin/updraft.js against a real schedd with a pilot's claims and completions. The file is read
 * back by the format's rules: header `NNN (CCC.PPP.000) YYYY-MM-DD HH:MM:SS text`, tab-indented
 * details, each event closed by `...`, nothing else.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { appendEvents, formatEvent, parseUserLog } from "../../src/cli/user-log.js";
import { hasErrorCode } from "../../src/common/errors.js";
import { runCli, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv();
  work = join(env.dir, "submit");
  mkdirSync(work);
});
after(() => env.close());

const updraft = (args: string[]) => runCli(env, work, args);

/** Every line of the file by the format's rules; returns the events' (code, job, first detail). */
function readByTheRules(text: string): [string, string, string][] {
  const header = /^(\d{3}) \((\d{3,})\.(\d{3})\.000\) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S.*$/;
  const events: [string, string, string][] = [];
  let open: [string, string, string] | undefined;
  const lines = text.split("\n");
  assert.equal(lines.pop(), "", "the file ends with a newline");
  for (const line of lines) {
    if (!open) {
      const m = header.exec(line);
      assert.ok(m, `an event header: ${JSON.stringify(line)}`);
      open = [m[1]!, `${Number(m[2])}.${Number(m[3])}`, ""];
    } else if (line === "...") {
      events.push(open);
      open = undefined;
    } else {
      assert.match(line, /^\t/, `a detail line is indented by a tab: ${JSON.stringify(line)}`);
      if (open[2] === "") open[2] = line.slice(1);
    }
  }
  assert.equal(open, undefined, "the last event is closed by '...'");
  return events;
}

test("submit writes 000, wait LOGFILE appends 001, 005, 012 and 009 as they happen", async () => {
  writeFileSync(
    join(work, "job.sub"),
    "executable = /bin/true\ntransfer_executable = false\nlog = jobs.log\nqueue 3\n",
  );
  const sub = await updraft(["submit", "job.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const c = Number(/cluster (\d+)/.exec(sub.stdout)![1]);
  const log = join(work, "jobs.log");
  assert.deepEqual(readByTheRules(readFileSync(log, "utf8")), [
    ["000", `${c}.0`, ""],
    ["000", `${c}.1`, ""],
    ["000", `${c}.2`, ""],
  ]);
  assert.equal(statSync(log).mode & 0o777, 0o600);

  // A pilot runs job 0 (exit 3) and job 1 (held: an output it did not make); alice removes 2.
  const pilot = env.client("pilot");
  const first = await pilot.claimJob(slot());
  await pilot.completeJob({ leaseId: first.leaseId, exitCode: 3, outputs: [] });
  const second = await pilot.claimJob(slot());
  await pilot.completeJob({
    leaseId: second.leaseId,
    exitCode: 0,
    outputs: [],
    holdReason: "Error from the pilot: failed to send file(s) to the schedd: missing.root",
    holdCode: 12,
    holdSubcode: 2,
  });
  await env.client("alice").act("remove", { ids: [`${c}.2`] }, "not needed");

  const w = await updraft(["wait", "jobs.log", "--timeout", "30"]);
  assert.equal(w.code, 1, "a job failed or is held");
  const text = readFileSync(log, "utf8");
  const events = readByTheRules(text);
  const byJob = (p: number) => events.filter((e) => e[1] === `${c}.${p}`).map((e) => e[0]);
  assert.deepEqual(byJob(0), ["000", "001", "005"]);
  assert.deepEqual(byJob(1), ["000", "001", "012"]);
  assert.deepEqual(byJob(2), ["000", "009"]);
  assert.match(text, /\t\(1\) Normal termination \(return value 3\)\n/);
  assert.match(
    text,
    /Job was held\.\n\tError from the pilot: .*missing\.root\n\tCode 12 Subcode 2\n/,
  );
  assert.match(text, /Job was aborted\.\n\tnot needed\n/);

  // Waiting again writes nothing twice.
  await updraft(["wait", "jobs.log", "--timeout", "30"]);
  assert.equal(readFileSync(log, "utf8"), text);
});

/**
 * The lines HTCondor's reader (condor_event.cpp) requires after an evicted or terminated
 * event's first detail: usage lines `\t\tUsr D HH:MM:SS, Sys D HH:MM:SS  -  ...`, then byte
 * lines `\t0  -  Run Bytes ...`. Without them its reader fails the event.
 */
function assertUsageBlocks(text: string, code: string, usageLines: number): void {
  const blocks = text.split("...\n").filter((b) => b.startsWith(`${code} (`));
  assert.ok(blocks.length > 0, `a ${code} event`);
  for (const b of blocks) {
    const lines = b.split("\n").slice(2);
    for (let i = 0; i < usageLines; i++) {
      assert.match(lines[i]!, /^\t\tUsr \d+ \d\d:\d\d:\d\d, Sys \d+ \d\d:\d\d:\d\d {2}- {2}\S/);
    }
    assert.match(lines[usageLines]!, /^\t\d+ {2}- {2}Run Bytes Sent By Job$/);
    assert.match(lines[usageLines + 1]!, /^\t\d+ {2}- {2}Run Bytes Received By Job$/);
  }
}

test("a job handed back, held and released gets 004, 012 and 013 in a form HTCondor reads", async () => {
  writeFileSync(
    join(work, "again.sub"),
    "executable = /bin/true\ntransfer_executable = false\nlog = again.log\nqueue\n",
  );
  const sub = await updraft(["submit", "again.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const c = Number(/cluster (\d+)/.exec(sub.stdout)![1]);
  const log = join(work, "again.log");
  const pilot = env.client("pilot");

  // A stopping pilot hands the job back: it is evicted, with the pilot's reason.
  env.clock.advance(5_000);
  const first = await pilot.claimJob(slot());
  env.clock.advance(30_000);
  await pilot.releaseLease(first.leaseId, "pilot retiring");
  const alice = env.client("alice");
  env.clock.advance(5_000);
  await alice.act("hold", { ids: [`${c}.0`] }, "wrong input");
  assert.equal((await updraft(["wait", "again.log", "--timeout", "30"])).code, 1, "held");
  env.clock.advance(5_000);
  await alice.act("release", { ids: [`${c}.0`] }, "input fixed");
  const idle = await updraft(["wait", "again.log", "--timeout", "1", "--poll", "0.2"]);
  assert.equal(idle.code, 2, "still idle after its release");

  env.clock.advance(5_000);
  const second = await pilot.claimJob(slot());
  env.clock.advance(10_000);
  await pilot.completeJob({ leaseId: second.leaseId, exitCode: 0, outputs: [] });
  assert.equal((await updraft(["wait", "again.log", "--timeout", "30"])).code, 0);

  const text = readFileSync(log, "utf8");
  assert.deepEqual(
    readByTheRules(text).map((e) => e[0]),
    ["000", "001", "004", "012", "013", "001", "005"],
  );
  assert.match(text, /Job was evicted\.\n\t\(0\) CPU times\n/);
  assert.match(text, /\tReason: pilot retiring\n/);
  assert.match(text, /Job was held\.\n\twrong input\n\tCode \d+ Subcode \d+\n/);
  assert.match(text, /Job was released\.\n\tinput fixed\n/);
  assertUsageBlocks(text, "004", 2);
  assertUsageBlocks(text, "005", 4);
});

test("an event's text cannot end it early or forge another", () => {
  const forged = formatEvent({
    code: 12,
    cluster: 7,
    proc: 0,
    time: 1_700_000_000,
    text: "Job was held.",
    details: [
      "bad\n...\n005 (007.000.000) 2023-11-14 22:13:20 Job terminated.",
      "Code 1 Subcode 0",
    ],
  });
  const events = parseUserLog(forged);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.code, 12);
  assert.equal(events[0]!.details.length, 2);
});

test("attack: a log path naming a file that is not an event log is never appended to", () => {
  const rc = join(work, ".bashrc");
  writeFileSync(rc, "export PATH=$HOME/bin:$PATH\n");
  const event = { code: 0, cluster: 1, proc: 0, time: 1_700_000_000, text: "x", details: [] };
  assert.throws(
    () => appendEvents(rc, [event]),
    (err: unknown) =>
      hasErrorCode(err, "user-log-foreign") && /is not a job event log/.test(err.message),
  );
  assert.equal(readFileSync(rc, "utf8"), "export PATH=$HOME/bin:$PATH\n");
});

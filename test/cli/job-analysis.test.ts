/** `q -better-analyze` and `-af:FLAGS` output, as condor_q prints them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileExpression } from "../../src/classad/index.js";
import { splitAfFlags } from "../../src/cli/htcondor-args.js";
import { analyzeJob } from "../../src/cli/job-analysis.js";
import { afLines, parseAfFlags, totalsLine } from "../../src/cli/job-format.js";

const job = {
  ClusterId: "12",
  ProcId: "0",
  Owner: '"alice"',
  RequestMemory: "4000",
  RequestCpus: "1",
  DESIRED_Sites: '"T2_US_Nebraska"',
  Requirements:
    '(TARGET.Arch == "X86_64") && stringListMember(TARGET.GLIDEIN_CMSSite, DESIRED_Sites) && (TARGET.Memory >= RequestMemory)',
};

function slot(n: number, site: string, memory: number, entry: string, start = "true") {
  return {
    MyType: '"Machine"',
    Name: `"slot1@pilot${n}@wn${n}"`,
    Machine: `"wn${n}"`,
    Arch: '"X86_64"',
    GLIDEIN_CMSSite: `"${site}"`,
    GLIDEIN_Entry_Name: `"${entry}"`,
    GLIDEIN_Factory: '"gf"',
    Memory: String(memory),
    START: start,
    Requirements: "START",
  };
}

const slots = [
  slot(1, "T2_US_Nebraska", 8000, "CMS_T2_US_Nebraska"),
  slot(2, "T2_US_Nebraska", 2000, "CMS_T2_US_Nebraska"),
  slot(3, "T2_DE_DESY", 8000, "CMS_T2_DE_DESY"),
  slot(4, "T2_US_Nebraska", 8000, "CMS_T2_US_Nebraska", 'TARGET.Owner == "bob"'),
];

test("-better-analyze counts the slots each clause matches and sums up as condor_q", () => {
  const text = analyzeJob(job, slots, { better: true });
  assert.match(text, /^The Requirements expression for job 12\.000 is\n\n {4}\(TARGET\.Arch/);
  assert.match(
    text,
    /Job 12\.000 defines the following attributes:\n\n {4}DESIRED_Sites = "T2_US_Nebraska"\n {4}RequestMemory = 4000\n/,
  );
  const table = text.slice(text.indexOf("reduces to these conditions:"));
  assert.match(table, /\n {8}Slots\nStep {3}Matched {2}Condition\n----- --------- ---------\n/);
  assert.match(table, /\n\[0\] {11}4 {2}TARGET\.Arch == "X86_64"\n/);
  assert.match(
    table,
    /\n\[1\] {11}3 {2}stringListMember\(TARGET\.GLIDEIN_CMSSite,DESIRED_Sites\)\n/,
  );
  assert.match(table, /\n\[3\] {11}3 {2}TARGET\.Memory >= RequestMemory\n/);
  assert.match(
    text,
    /\n012\.000: {2}Run analysis summary ignoring user priority\. {2}Of 4 slots on 4 machines,\n/,
  );
  assert.match(text, /\n {6}2 slots are rejected by your job's requirements\n/);
  assert.match(text, /\n {6}1 slots reject your job because of their own requirements\n/);
  assert.match(text, /\n {6}1 slots match and are willing to run your job\n/);
  assert.match(
    text,
    /\n {4}CMS_T2_DE_DESY {6}0 of 1 match\n {4}CMS_T2_US_Nebraska {2}1 of 3 match\n/,
  );
  assert.doesNotMatch(text, /WARNING/);
});

test("-analyze gives the summary only, and warns when nothing matches", () => {
  const text = analyzeJob({ ...job, RequestMemory: "64000" }, slots, { better: false });
  assert.doesNotMatch(text, /reduces to these conditions/);
  assert.match(text, /\n {6}0 slots match and are willing to run your job\n/);
  assert.match(text, /WARNING: {2}Be advised:\n {3}No machines matched the job's constraints\n/);
  const none = analyzeJob(job, [], { better: true });
  assert.match(none, /Of 0 slots on 0 machines/);
});

const entry = (name: string, site: string, downtime = false) => ({
  MyType: '"GlideFactory"',
  Name: `"${name}@gf"`,
  EntryName: `"${name}"`,
  FactoryName: '"gf"',
  GLIDEIN_CMSSite: `"${site}"`,
  GLIDEIN_In_Downtime: String(downtime),
});
const CMS_MATCH = "stringListMember(TARGET.GLIDEIN_CMSSite, MY.DESIRED_Sites)";
const resource = (entryName: string, matchExpr = CMS_MATCH, client = "fe.main") => ({
  MyType: '"GlideResource"',
  Name: `"${entryName}@gf@${client}"`,
  GlideClientName: `"${client}"`,
  GlideFactoryEntry: `"${entryName}@gf"`,
  GlideClientMatchExpr: JSON.stringify(matchExpr),
});
const entries = {
  factories: [
    entry("CMS_T2_US_Nebraska", "T2_US_Nebraska"),
    entry("CMS_T2_US_Caltech", "T2_US_Caltech"),
    entry("CMS_T2_US_UCSD", "T2_US_UCSD", true),
    entry("CMS_T2_DE_DESY", "T2_DE_DESY"),
    entry("CMS_T3_Unserved", "T2_US_Caltech"),
    entry("CMS_T2_Broken", "T2_US_Caltech"),
  ],
  resources: [
    resource("CMS_T2_US_Nebraska"),
    resource("CMS_T2_US_Caltech"),
    resource("CMS_T2_US_Caltech", "true", "fe.any"),
    resource("CMS_T2_US_UCSD"),
    resource("CMS_T2_DE_DESY"),
    resource("CMS_T2_Broken", "((("),
  ],
};

test("-better-analyze names the entries that would run the job though no pilot is there yet", () => {
  const wants = {
    ...job,
    RequestMemory: "64000",
    DESIRED_Sites: '"T2_US_Nebraska,T2_US_Caltech,T2_US_UCSD"',
  };
  // A running job's dynamic slot is neither a slot to match nor a pilot of its own.
  const dynamic = {
    ...slot(5, "T2_US_Nebraska", 2000, "CMS_T2_US_Nebraska"),
    Name: '"slot1_1@pilot1@wn1"',
    SlotType: '"Dynamic"',
    DynamicSlot: "true",
  };
  const text = analyzeJob(wants, [...slots, dynamic], { better: true, entries, nowS: 1 });
  assert.match(text, /Of 4 slots on 4 machines/);
  const lines = text.slice(text.indexOf("Entries for pilots")).split("\n");
  assert.deepEqual(lines.slice(1, 8), [
    "    CMS_T2_Broken@gf       does not match",
    "    CMS_T2_DE_DESY@gf      does not match",
    "    CMS_T2_US_Caltech@gf   matches for fe.any, fe.main; no pilots yet",
    "    CMS_T2_US_Nebraska@gf  matches for fe.main; 3 pilots",
    "    CMS_T2_US_UCSD@gf      matches for fe.main; no pilots yet (in downtime: no new pilots)",
    "    CMS_T3_Unserved@gf     no frontend group asks for pilots here",
    "  3 entries match, 1 with no pilots yet",
  ]);
  assert.match(
    text,
    /No machines matched the job's constraints\n {3}but 2 entries match the job: its frontend asks for pilots there, and the job waits for them\n/,
  );
  // Without the group that takes any job, a job for no known site has nowhere to go.
  const cms = {
    ...entries,
    resources: entries.resources.filter((r) => !r.Name.includes("fe.any")),
  };
  const nowhere = analyzeJob({ ...wants, DESIRED_Sites: '"T1_XX_Nowhere"' }, slots, {
    better: false,
    entries: cms,
    nowS: 1,
  });
  assert.match(nowhere, /\n {2}0 entries match, 0 with no pilots yet\n/);
  assert.match(nowhere, /no factory entry matches it either: no pilot will come for it as it is/);
  const noPool = analyzeJob(wants, slots, { better: true });
  assert.doesNotMatch(noPool, /Entries for pilots/, "without entry ads, nothing is said of them");
});

test("-af takes expressions and condor_q's letters: h header, j job id, l labels, , commas", () => {
  const ads = [job, { ...job, ProcId: "1", RequestMemory: "2000" }];
  const exprs = ["Owner", "RequestMemory / 1000", 'strcat(Owner, "@cms")'].map((text) => ({
    text,
    expr: compileExpression(text),
  }));
  assert.deepEqual(afLines(ads, exprs), ["alice 4 alice@cms", "alice 2 alice@cms"]);
  const hj = parseAfFlags("hj");
  assert.ok(typeof hj !== "string");
  assert.deepEqual(afLines(ads, exprs, hj), [
    'ID Owner RequestMemory / 1000 strcat(Owner, "@cms")',
    "12.0 alice 4 alice@cms",
    "12.1 alice 2 alice@cms",
  ]);
  const lc = parseAfFlags("l,");
  assert.ok(typeof lc !== "string");
  assert.deepEqual(afLines([job], exprs.slice(0, 2), lc), [
    'Owner = "alice",RequestMemory / 1000 = 4',
  ]);
  assert.match(parseAfFlags("hq") as string, /unknown flag 'q'/);
  assert.deepEqual(splitAfFlags(["-af:hj", "Owner", "--", "-af:h"]), [
    "--af-flags",
    "hj",
    "--af",
    "Owner",
    "--",
    "-af:h",
  ]);
});

test("totals name the query, a user or all users", () => {
  assert.equal(
    totalsLine([job, { ...job, JobStatus: "2" }], "alice"),
    "Total for alice: 2 jobs; 0 completed, 0 removed, 0 idle, 1 running, 0 held, 0 suspended",
  );
});

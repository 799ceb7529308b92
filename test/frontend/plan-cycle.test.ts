import assert from "node:assert/strict";
import { test } from "node:test";
import { planCycle, type EntryPlan } from "../../src/frontend/compute.js";
import { groupPolicy } from "../../src/frontend/group-policy.js";
import type { SnapshotInput } from "../../src/frontend/snapshot.js";
import { entryAd, minimalConfig, snapshot } from "./helpers.js";

const NOW = 1_790_000_000;

function policy(limitsYaml = "", extra = "") {
  const cfg = minimalConfig((limitsYaml ? `    limits:\n${limitsYaml}` : "") + extra);
  return groupPolicy(cfg.groups[0]!, cfg.match);
}

const NO_RAMP = "      ramp_up_attenuation: 1\n      relative_to_queue: 1\n";

function ac(id: string, count: number, sites: string, extra: Record<string, string> = {}) {
  return { id, schedd: "s1", count, job: { DESIRED_Sites: `"${sites}"`, ...extra } };
}

function byEntry(entries: EntryPlan[]): Map<string, EntryPlan> {
  return new Map(entries.map((e) => [e.entry, e]));
}

function plan(input: SnapshotInput, p = policy(NO_RAMP)) {
  const out = planCycle(p, snapshot(input), NOW);
  return { ...out, by: byEntry(out.entries) };
}

test("a job matching many entries is not asked for in full at each", () => {
  const r = plan({
    autoclusters: [ac("1", 30, "A,B,C")],
    factory_ads: [
      entryAd("a", { GLIDEIN_Site: "A" }),
      entryAd("b", { GLIDEIN_Site: "B" }),
      entryAd("c", { GLIDEIN_Site: "C" }),
    ],
  });
  for (const e of r.entries) {
    assert.equal(e.jobs.count, 30);
    assert.equal(e.jobs.prop, 10);
    assert.equal(e.request.idle, 10);
  }
  assert.equal(
    r.entries.reduce((s, e) => s + e.request.idle, 0),
    30,
  );
});

test("entries in downtime get nothing and their share goes to the others", () => {
  const r = plan({
    autoclusters: [ac("1", 20, "A,B")],
    factory_ads: [
      entryAd("a", { GLIDEIN_Site: "A" }),
      entryAd("b", { GLIDEIN_Site: "B", GLIDEIN_In_Downtime: true }),
    ],
  });
  assert.equal(r.by.get("b")!.request.idle, 0);
  assert.equal(r.by.get("b")!.inDowntime, true);
  assert.deepEqual(r.by.get("b")!.reasons, [{ kind: "downtime" }]);
  assert.equal(r.by.get("a")!.request.idle, 20);
});

test("no idle jobs: no new pilots, and removal as the policy allows", () => {
  const p = policy(NO_RAMP + "      removal: { type: IDLE, margin: 1 }\n");
  const r = plan(
    {
      autoclusters: [],
      factory_ads: [entryAd("a", { GLIDEIN_Site: "A" })],
      slots: [
        { group: "main", entry: "a", state: "idle", cpus: 1, memory: 2000 },
        { group: "main", entry: "a", state: "idle", cpus: 1, memory: 2000 },
        { group: "main", entry: "a", state: "busy", cpus: 0, memory: 0 },
      ],
      factory_clients: [{ group: "main", entry: "a", idle: 3, running: 3, held: 0 }],
    },
    p,
  );
  const a = r.by.get("a")!;
  assert.equal(a.request.idle, 0);
  assert.equal(a.request.max, 1, "keeps the running pilot");
  assert.deepEqual(a.reasons, [{ kind: "no-idle-jobs" }]);
  assert.deepEqual(a.request.removal, { type: "IDLE", margin: 1, excess: 4 });
});

test("idle cores that cannot take a job (memory used up, retiring) are not idle capacity", () => {
  const slots = (memory: number, retiring = false) =>
    Array.from({ length: 4 }, () => ({
      group: "main",
      entry: "a",
      state: "idle" as const,
      cpus: 1,
      memory,
      retiring,
    }));
  const input = (s: ReturnType<typeof slots>): SnapshotInput => ({
    autoclusters: [ac("1", 10, "A", { RequestMemory: "2000" })],
    factory_ads: [entryAd("a", { GLIDEIN_Site: "A" })],
    slots: s,
  });
  const usable = plan(input(slots(4000))).by.get("a")!;
  assert.equal(usable.pilots.usableIdleCores, 4);
  assert.equal(usable.jobs.effectiveIdle, 6);
  const tooSmall = plan(input(slots(1000))).by.get("a")!;
  assert.equal(tooSmall.pilots.usableIdleCores, 0);
  assert.equal(tooSmall.jobs.effectiveIdle, 10);
  const retiring = plan(input(slots(4000, true))).by.get("a")!;
  assert.equal(retiring.pilots.usableIdleCores, 0);
  assert.equal(retiring.jobs.effectiveIdle, 10);
});

test("a partitionable slot's leftover memory decides how many of its cores count", () => {
  const r = plan({
    autoclusters: [ac("1", 16, "A", { RequestMemory: "2000", RequestCpus: "1" })],
    factory_ads: [entryAd("a", { GLIDEIN_Site: "A", GLIDEIN_CPUS: 8 })],
    slots: [{ group: "main", entry: "a", state: "idle", cpus: 8, memory: 5000 }],
  });
  const a = r.by.get("a")!;
  assert.equal(a.pilots.usableIdleCores, 2);
  assert.equal(a.jobs.propMc, 2, "16 one-core jobs are two 8-core pilots");
  assert.equal(a.jobs.effectiveIdle, 2, "2 pilots' worth minus 2 of 8 cores, rounded up");
});

test("a run-time match error is reported for that entry and treated as no match", () => {
  const cfg = minimalConfig("");
  const p = groupPolicy(
    { ...cfg.groups[0]!, match_expr: "TARGET.GLIDEIN_MaxMemMBs >= MY.RequestMemory" },
    cfg.match,
  );
  const r = plan(
    {
      autoclusters: [ac("1", 6, "A", { RequestMemory: "1000" })],
      factory_ads: [
        entryAd("good", { GLIDEIN_MaxMemMBs: 4000 }),
        entryAd("bad", { GLIDEIN_MaxMemMBs: "plenty" }),
      ],
    },
    p,
  );
  assert.equal(r.by.get("bad")!.jobs.count, 0);
  assert.equal(r.by.get("bad")!.matchError?.count, 1);
  assert.equal(r.by.get("good")!.jobs.count, 6);
  assert.equal(r.by.get("good")!.matchError, undefined);
});

test("the job and factory queries select what the group considers", () => {
  const p = policy(
    NO_RAMP,
    '    job_query_expr: Owner == "alice"\n    factory_query_expr: GLIDEIN_Site =!= "B"\n',
  );
  const r = plan(
    {
      autoclusters: [
        ac("1", 5, "A,B", { Owner: '"alice"' }),
        ac("2", 7, "A,B", { Owner: '"bob"' }),
      ],
      factory_ads: [entryAd("a", { GLIDEIN_Site: "A" }), entryAd("b", { GLIDEIN_Site: "B" })],
    },
    p,
  );
  assert.deepEqual([...r.by.keys()], ["a"]);
  assert.equal(r.idleJobs, 5);
  assert.equal(r.by.get("a")!.jobs.prop, 5);
});

test("group totals count every entry's pilots for the _total limits", () => {
  const p = policy(NO_RAMP + "      running_glideins_total: { max: 5, curb: 5 }\n");
  const r = plan(
    {
      autoclusters: [ac("1", 10, "A,B")],
      factory_ads: [entryAd("a", { GLIDEIN_Site: "A" }), entryAd("b", { GLIDEIN_Site: "B" })],
      slot_counts: [
        { group: "main", entry: "a", idle: 0, running: 5, total: 5, idle_cores_usable: 0 },
      ],
      factory_clients: [{ group: "other", entry: "b", idle: 50, running: 0, held: 0 }],
    },
    p,
  );
  assert.equal(r.totals.pilots, 5, "another group's pilots are not ours");
  for (const e of r.entries) {
    assert.equal(e.request.idle, 0);
    assert.equal(e.reasons[0]!.kind, "max-reached");
  }
});

test("free cores of a partitionable pilot that is running jobs are capacity too", () => {
  const r = plan({
    autoclusters: [ac("1", 10, "A", { RequestMemory: "1000" })],
    factory_ads: [entryAd("a", { GLIDEIN_Site: "A", GLIDEIN_CPUS: 8 })],
    slots: [{ group: "main", entry: "a", state: "busy", cpus: 6, memory: 3000 }],
  });
  const a = r.by.get("a")!;
  assert.equal(a.pilots.runningSlots, 1);
  assert.equal(a.pilots.usableIdleCores, 3, "memory for three 1000 MB jobs");
});

/** A job attribute that doubles its work at each of 30 references: 2^30 steps unbounded. */
function costly(tag: string): Record<string, string> {
  const attrs: Record<string, string> = { X0: "1" };
  for (let i = 1; i <= 30; i++) attrs[`X${i}`] = `X${i - 1} + X${i - 1}`;
  return { ...attrs, DESIRED_Sites: `ifThenElse(X30 > 0, "A", "${tag}")` };
}

test("an autocluster whose attributes exceed its step budget matches nothing and is named; the others still match", () => {
  const r = planCycle(
    policy(NO_RAMP),
    snapshot({
      autoclusters: [ac("1", 20, "A"), ac("2", 10, "A", costly("A"))],
      factory_ads: [entryAd("a", { GLIDEIN_Site: "A" })],
    }),
    NOW,
    { autoclusterSteps: 200_000, cycleSteps: 100_000_000 },
  );
  const a = r.entries[0]!;
  assert.equal(a.jobs.count, 20, "only the well-behaved autocluster counts");
  assert.match(a.matchError!.message, /step budget \(200000 steps per autocluster\)/);
  assert.deepEqual(r.overBound, [
    { schedd: "s1", autocluster: "2", bound: "the evaluation step budget" },
  ]);
  assert.equal(r.cycleExhausted, false);
  assert.equal(r.unmatchedJobs, 10);
});

test("a cycle past its step budget stops evaluating, says so, and blames no later autocluster", () => {
  const r = planCycle(
    policy(NO_RAMP),
    snapshot({
      autoclusters: [
        ac("1", 5, "A", costly("B")),
        ac("2", 5, "A", costly("C")),
        ac("3", 5, "A", costly("D")),
        ac("4", 7, "A"),
      ],
      factory_ads: [entryAd("a", { GLIDEIN_Site: "A" })],
    }),
    NOW,
    { autoclusterSteps: 200_000, cycleSteps: 300_000 },
  );
  assert.equal(r.cycleExhausted, true);
  assert.deepEqual(
    r.overBound.map((o) => o.autocluster),
    ["1"],
    "the second ran out of the cycle's budget, not its own",
  );
  assert.equal(
    r.entries[0]!.jobs.count,
    0,
    "nothing is evaluated once the cycle's budget is spent",
  );
});

/**
 * The slot's kept candidates give the same job as a walk over every idle job would, through a
 * long random mix of submits, claims, holds, releases, removals, requeues, priority edits (of
 * idle and running jobs) and changing fair-share usage, for several slots at once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, rank, symmetricMatch } from "../../src/classad/index.js";
import { JobStatus, type JobAttrs } from "../../src/schedd/job-status.js";
import { QueueIndex, type JobRecord } from "../../src/schedd/queue-index.js";

const OWNERS = ["alice", "bob", "carol", "dave"];
const NOW_S = 1_800_000_000;
const ctx = { now: () => NOW_S };

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function slotAd(memory: number, entry: string): ClassAd {
  return ClassAd.fromJSON({
    Name: `"slot1@${entry}"`,
    Cpus: "4",
    Memory: String(memory),
    GLIDEIN_Entry_Name: `"${entry}"`,
    START: "TARGET.RequestMemory <= MY.Memory",
    Requirements: "START",
  });
}

interface Expected {
  owner: string;
  cluster: number;
  proc: number;
}

/** The choice as `matcher.ts` defines it, by walking every idle job. */
function oracle(
  index: QueueIndex,
  ads: Map<string, JobAttrs>,
  slot: ClassAd,
  usage: Map<string, number>,
): Expected | undefined {
  const matching: { rec: JobRecord; rank: number }[] = [];
  for (const rec of index.jobs.values()) {
    if (rec.status !== JobStatus.Idle) continue;
    const ad = ClassAd.fromJSON(ads.get(`${rec.cluster}.${rec.proc}`)!);
    if (symmetricMatch(ad, slot, ctx)) matching.push({ rec, rank: rank(ad, slot, ctx) });
  }
  if (matching.length === 0) return undefined;
  const owners = [...new Set(matching.map((m) => m.rec.owner))].sort(
    (a, b) => usage.get(a)! - usage.get(b)! || (a < b ? -1 : 1),
  );
  const mine = matching.filter((m) => m.rec.owner === owners[0]);
  mine.sort(
    (a, b) =>
      b.rank - a.rank ||
      b.rec.prio - a.rec.prio ||
      a.rec.cluster - b.rec.cluster ||
      a.rec.proc - b.rec.proc,
  );
  const best = mine[0]!.rec;
  return { owner: best.owner, cluster: best.cluster, proc: best.proc };
}

function record(cluster: number, proc: number, owner: string, prio: number): JobRecord {
  return {
    cluster,
    proc,
    owner,
    status: JobStatus.Idle,
    prio,
    seq: 0,
    autocluster: undefined,
    leaseId: undefined,
    leaseExpires: 0,
    entry: undefined,
    attrs: undefined,
  };
}

/** One random mix of queue changes and claims, checking every choice; returns what it did. */
function mix(seed: number, steps: number): { claims: number; empties: number } {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const index = new QueueIndex(["RequestMemory"]);
  const ads = new Map<string, JobAttrs>();
  const usage = new Map(OWNERS.map((o) => [o, 0]));
  const slots = [
    { key: "small", ad: slotAd(1000, "Entry_A") },
    { key: "large", ad: slotAd(4000, "Entry_B") },
    { key: "mid", ad: slotAd(2500, "Entry_A") },
  ];
  const byStatus = (s: number) => [...index.jobs.values()].filter((r) => r.status === s);
  let cluster = 1;
  let claims = 0;
  let empties = 0;

  for (let step = 0; step < steps; step++) {
    const op = random();
    if (op < 0.12) {
      const owner = pick(OWNERS);
      const n = 1 + Math.floor(random() * 4);
      for (let proc = 0; proc < n; proc++) {
        const prio = pick([0, 0, 5, -3]);
        const attrs: JobAttrs = {
          Owner: `"${owner}"`,
          RequestMemory: String(pick([500, 1500, 2000, 3000, 5000])),
          JobPrio: String(prio),
          Rank: pick(["0", "0", 'TARGET.GLIDEIN_Entry_Name == "Entry_B" ? 10 : 0', "MY.Memory"]),
          Requirements: "TARGET.Memory >= RequestMemory",
        };
        ads.set(`${cluster}.${proc}`, attrs);
        index.add(record(cluster, proc, owner, prio), attrs);
      }
      cluster++;
    } else if (op < 0.6) {
      const s = pick(slots);
      const want = oracle(index, ads, s.ad, usage);
      const got = index.choose(s.ad, s.key, NOW_S, (o) => usage.get(o)!);
      const gotJob = got && { owner: got.owner, cluster: got.cluster, proc: got.proc };
      assert.deepEqual(gotJob, want, `seed ${seed}, step ${step}, slot ${s.key}`);
      if (got === undefined) {
        empties++;
        continue;
      }
      claims++;
      const rec = index.jobs.get(`${got.cluster}.${got.proc}`)!;
      index.setStatus(rec, JobStatus.Running);
      usage.set(rec.owner, usage.get(rec.owner)! + 1);
    } else if (op < 0.68) {
      const running = byStatus(JobStatus.Running);
      if (running.length === 0) continue;
      const rec = pick(running);
      if (random() < 0.5) index.remove(rec);
      else index.setStatus(rec, JobStatus.Idle, ads.get(`${rec.cluster}.${rec.proc}`)!);
    } else if (op < 0.76) {
      const idle = byStatus(JobStatus.Idle);
      if (idle.length === 0) continue;
      const rec = pick(idle);
      if (random() < 0.5) index.setStatus(rec, JobStatus.Held);
      else index.remove(rec);
    } else if (op < 0.82) {
      const held = byStatus(JobStatus.Held);
      if (held.length === 0) continue;
      const rec = pick(held);
      index.setStatus(rec, JobStatus.Idle, ads.get(`${rec.cluster}.${rec.proc}`)!);
    } else if (op < 0.9) {
      // An edit of JobPrio, of an idle job or of one that is running or held.
      const live = [...index.jobs.values()];
      if (live.length === 0) continue;
      const rec = pick(live);
      const prio = pick([-5, 0, 3, 8]);
      const attrs = { ...ads.get(`${rec.cluster}.${rec.proc}`)!, JobPrio: String(prio) };
      ads.set(`${rec.cluster}.${rec.proc}`, attrs);
      index.reindex(rec, attrs, prio);
    } else {
      // Fair share moves on: usage decays or another owner's jobs ran elsewhere.
      const owner = pick(OWNERS);
      usage.set(owner, Math.max(0, usage.get(owner)! + pick([-2, -1, 1, 3])));
    }
  }
  return { claims, empties };
}

test("kept candidates choose as a walk over every idle job does", () => {
  let claims = 0;
  let empties = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const r = mix(seed, 1500);
    claims += r.claims;
    empties += r.empties;
  }
  assert.ok(claims > 3000, `claims exercised: ${claims}`);
  assert.ok(empties > 0, `a slot found nothing at least once: ${empties}`);
});

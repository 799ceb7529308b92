/**
 * User actions over a selection of jobs (ids, a constraint, or an owner): rm, hold, release,
 * qedit, and queries of the queue and history. Non-admin callers act only on their own jobs;
 * others' jobs are reported as refused and left untouched.
 */
import {
  ClassAd,
  compileExpression,
  isTrueEquivalent,
  type CompiledExpr,
} from "../classad/index.js";
import { JobStatus, getAttr, jobId, parseJobId, type JobAttrs, type JobId } from "./job-status.js";
import type { JobQueue } from "./queue.js";
import { pinnedColumns } from "./query-columns.js";
import type { JobRecord } from "./queue-index.js";
import type { ActOutcome } from "./results.js";
import { epochSeconds, userHold } from "./transitions.js";

export interface Selection {
  /** `cluster` or `cluster.proc` */
  ids: readonly string[];
  constraint: string;
  owner: string;
}

export interface Caller {
  user: string;
  admin: boolean;
}

export type Action = "remove" | "hold" | "release";

/** A compiled constraint, or an error message. */
export function compileConstraint(text: string): CompiledExpr | string | undefined {
  if (text.trim() === "") return undefined;
  try {
    return compileExpression(text);
  } catch (err) {
    return `bad constraint '${text}': ${(err as Error).message}`;
  }
}

export function constraintHolds(c: CompiledExpr | undefined, attrs: JobAttrs, nowMs: number) {
  if (c === undefined) return true;
  const ad = ClassAd.fromJSON(attrs);
  return isTrueEquivalent(ad.evaluateExpr(c, null, { ctx: { now: () => epochSeconds(nowMs) } }));
}

/** Jobs in the queue a selection names, in id order; bad ids are reported as refused. */
function select(
  q: JobQueue,
  sel: Selection,
  nowMs: number,
): { recs: JobRecord[]; refused: ActOutcome["refused"] } | string {
  const refused: ActOutcome["refused"] = [];
  const compiled = compileConstraint(sel.constraint);
  if (typeof compiled === "string") return compiled;
  const wanted: ((r: JobRecord) => boolean)[] = [];
  for (const text of sel.ids) {
    const id = parseJobId(text);
    if (!id) return `'${text}' is not a job id (CLUSTER or CLUSTER.PROC)`;
    if (id.proc !== undefined && !q.index.jobs.has(jobId(id.cluster, id.proc))) {
      refused.push({ id: text, reason: "not found in the queue" });
      continue;
    }
    wanted.push((r) => r.cluster === id.cluster && (id.proc === undefined || r.proc === id.proc));
  }
  if (sel.ids.length === 0 && sel.constraint === "" && sel.owner === "") {
    return "name jobs by id, a constraint or a user";
  }
  const recs: JobRecord[] = [];
  for (const r of q.index.jobs.values()) {
    if (sel.ids.length > 0 && !wanted.some((w) => w(r))) continue;
    if (sel.owner !== "" && r.owner !== sel.owner) continue;
    if (compiled && !constraintHolds(compiled, q.store.getJob(r.cluster, r.proc)!.attrs, nowMs)) {
      continue;
    }
    recs.push(r);
  }
  recs.sort((a, b) => a.cluster - b.cluster || a.proc - b.proc);
  for (const text of sel.ids) {
    const id = parseJobId(text)!;
    if (id.proc === undefined && !recs.some((r) => r.cluster === id.cluster)) {
      refused.push({ id: text, reason: "no jobs of this cluster in the queue" });
    }
  }
  return { recs, refused };
}

/**
 * Apply `change` to every selected job the caller may touch: its own, or any for an admin. The
 * ownership check lives here once so that no action can forget it.
 */
function changeOwned(
  q: JobQueue,
  sel: Selection,
  caller: Caller,
  nowMs: number,
  change: (rec: JobRecord) => string | undefined,
): ActOutcome | string {
  const s = select(q, sel, nowMs);
  if (typeof s === "string") return s;
  const out: ActOutcome = { done: [], refused: s.refused };
  for (const rec of s.recs) {
    const id = jobId(rec.cluster, rec.proc);
    if (!caller.admin && rec.owner !== caller.user) {
      out.refused.push({ id, reason: `permission denied: owned by ${rec.owner}` });
      continue;
    }
    const problem = change(rec);
    if (problem) out.refused.push({ id, reason: problem });
    else out.done.push(id);
  }
  return out;
}

export function act(
  q: JobQueue,
  action: Action,
  sel: Selection,
  reason: string,
  caller: Caller,
  nowMs: number,
): ActOutcome | string {
  return q.materializingAfter(() => {
    const out = changeOwned(q, sel, caller, nowMs, (rec) => apply(q, action, rec, reason, caller));
    if (action === "remove" && typeof out !== "string") dropFactories(q, sel, out, caller);
    return out;
  });
}

/**
 * A removal that names a late-materializing cluster whole (its id, its owner, a constraint or
 * -all) also drops its jobs not yet in the queue, as condor_rm removes the cluster's factory; a
 * removal of single jobs (CLUSTER.PROC) leaves the rest to enter the queue.
 */
function dropFactories(q: JobQueue, sel: Selection, out: ActOutcome, caller: Caller): void {
  const clusters = new Set<number>();
  for (const text of sel.ids) {
    const id = parseJobId(text);
    if (id && id.proc === undefined) clusters.add(id.cluster);
  }
  if (sel.ids.length === 0) for (const id of out.done) clusters.add(parseJobId(id)!.cluster);
  for (const c of clusters) {
    const owner = q.store.cluster(c)?.owner;
    if (owner === undefined || (!caller.admin && owner !== caller.user)) continue;
    const n = q.dropUnmaterialized(c);
    if (n === 0) continue;
    // Named by id with nothing left in the queue, the cluster was still found.
    out.refused = out.refused.filter(
      (r) => !(r.id === String(c) && r.reason === "no jobs of this cluster in the queue"),
    );
  }
}

function apply(q: JobQueue, action: Action, rec: JobRecord, reason: string, caller: Caller) {
  switch (action) {
    case "remove":
      q.remove(rec, reason || `via updraft rm (by user ${caller.user})`);
      return undefined;
    case "hold":
      if (rec.status === JobStatus.Held) return "already held";
      q.hold(rec, userHold(reason, caller.user));
      return undefined;
    case "release":
      if (rec.status !== JobStatus.Held) return "not held";
      q.release(rec, reason || `via updraft release (by user ${caller.user})`);
      return undefined;
  }
}

export function edit(
  q: JobQueue,
  sel: Selection,
  name: string,
  value: string,
  caller: Caller,
  nowMs: number,
): ActOutcome | string {
  return changeOwned(q, sel, caller, nowMs, (rec) => q.edit(rec, name, value, caller));
}

export interface QuerySpec {
  constraint: string;
  projection: readonly string[];
  /** 0: no limit. */
  limit: number;
  history: boolean;
  ids: readonly string[];
  owner: string;
}

/** Matching job ads (queue in id order, history newest first), projected. */
export function* query(q: JobQueue, spec: QuerySpec, nowMs: number): Generator<JobAttrs> {
  const compiled = compileConstraint(spec.constraint);
  if (typeof compiled === "string") throw new Error(compiled);
  const ids = spec.ids.map((t) => {
    const id = parseJobId(t);
    if (!id) throw new Error(`'${t}' is not a job id (CLUSTER or CLUSTER.PROC)`);
    return id;
  });
  // Rows whose status, cluster or proc the constraint rules out are left unread.
  const pinned = pinnedColumns(spec.constraint);
  const rows = spec.history ? q.store.history(0, pinned) : q.store.allJobs(pinned);
  let n = 0;
  for (const row of rows) {
    if (spec.owner !== "" && row.owner !== spec.owner) continue;
    if (
      ids.length > 0 &&
      !ids.some((i) => i.cluster === row.cluster && (i.proc ?? row.proc) === row.proc)
    ) {
      continue;
    }
    if (!constraintHolds(compiled, row.attrs, nowMs)) continue;
    yield project(row.attrs, spec.projection);
    if (spec.limit > 0 && ++n >= spec.limit) return;
  }
}

function project(attrs: JobAttrs, names: readonly string[]): JobAttrs {
  if (names.length === 0) return attrs;
  const out: JobAttrs = {};
  for (const n of names) {
    const v = getAttr(attrs, n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

export type { JobId };

/**
 * `updraft q -better-analyze` (and `-analyze`), as condor_q prints it: the job's Requirements,
 * the job attributes it reads, how many slots each top-level clause matches, and the run
 * analysis summary; then, as pilots belong to factory entries, how many slots of each entry
 * match, and which entries would run the job though no pilot of theirs is there yet
 * (entry-analysis.ts). Only partitionable slots are counted: a dynamic slot is a running job's
 * share and takes no other job. Pure: the job ad and the pool's ads in, text out.
 */
import {
  ClassAd,
  compileExpression,
  references,
  requirementsHold,
  unparseExpr,
  type Expr,
} from "../classad/index.js";
import { conjuncts } from "../frontend/expr-walk.js";
import type { JobAttrs } from "../schedd/job-status.js";
import { isDynamicSlot } from "../ads/slot.js";
import { COMMON, JOB, SLOT } from "../ads/names.js";
import { type EntryAds, entryVerdicts, formatEntryVerdicts } from "./entry-analysis.js";

export interface AnalysisOptions {
  /** -better-analyze: the clause table and the attributes the job defines. */
  better: boolean;
  nowS?: number;
  /** The factories' entries and the frontend groups' views of them, when the pool has any. */
  entries?: EntryAds;
}

function withoutParens(e: Expr): Expr {
  return e.kind === "paren" ? withoutParens(e.inner) : e;
}

/** condor_q's step numbers: the clause's node in the `&&` chain (0, 1, 3, 5, ...). */
function stepLabel(i: number): string {
  return `[${i === 0 ? 0 : 2 * i - 1}]`.padEnd(5);
}

export function analyzeJob(
  attrs: JobAttrs,
  slotAttrs: readonly JobAttrs[],
  opts: AnalysisOptions,
): string {
  const job = ClassAd.fromJSON(attrs);
  const id = `${job.getInteger(JOB.ClusterId) ?? 0}.${String(job.getInteger(JOB.ProcId) ?? 0).padStart(3, "0")}`;
  const all = slotAttrs.map((a) => ClassAd.fromJSON(a));
  const slots = all.filter((s) => !isDynamicSlot(s));
  const req = job.getExpr(JOB.Requirements);
  let out = "";
  if (req !== undefined) {
    out += `The Requirements expression for job ${id} is\n\n    ${unparseExpr(req)}\n\n`;
  }
  if (opts.better && req !== undefined) {
    out += `Job ${id} defines the following attributes:\n\n`;
    const own = [...references(req, job).internal].filter((n) => n !== "requirements").sort();
    for (const name of own) {
      const spelled = [...job.attributeExprs()].find(([n]) => n.toLowerCase() === name);
      if (spelled) out += `    ${spelled[0]} = ${unparseExpr(spelled[1])}\n`;
    }
    out += `\nThe Requirements expression for job ${id} reduces to these conditions:\n\n`;
    out += `        Slots\nStep   Matched  Condition\n----- --------- ---------\n`;
    conjuncts(req).forEach((clause, i) => {
      const c = compileExpression(withoutParens(clause));
      const matched = slots.filter((s) => job.evaluateExpr(c, s) === true).length;
      out += `${stepLabel(i)} ${String(matched).padStart(9)}  ${unparseExpr(withoutParens(clause))}\n`;
    });
  }
  const nowS = opts.nowS ?? Math.floor(Date.now() / 1000);
  const verdicts = opts.entries ? entryVerdicts(job, opts.entries, all, nowS) : [];
  out += summary(job, id, slots, verdicts);
  return out;
}

function summary(
  job: ClassAd,
  id: string,
  slots: readonly ClassAd[],
  verdicts: ReturnType<typeof entryVerdicts>,
): string {
  let rejectedByJob = 0;
  let rejectJob = 0;
  let willing = 0;
  const machines = new Set<string>();
  const perEntry = new Map<string, { slots: number; match: number }>();
  for (const slot of slots) {
    machines.add(slot.getString(SLOT.Machine) ?? slot.getString(COMMON.Name) ?? "");
    const entry = slot.getString(SLOT.EntryName) ?? "(no entry)";
    const e = perEntry.get(entry) ?? { slots: 0, match: 0 };
    perEntry.set(entry, e);
    e.slots++;
    if (!requirementsHold(job, slot)) rejectedByJob++;
    else if (!requirementsHold(slot, job)) rejectJob++;
    else {
      willing++;
      e.match++;
    }
  }
  const [cluster, proc] = id.split(".") as [string, string];
  let out =
    `\n${cluster.padStart(3, "0")}.${proc}:  Run analysis summary ignoring user priority.  ` +
    `Of ${slots.length} slots on ${machines.size} machines,\n` +
    `  ${String(rejectedByJob).padStart(5)} slots are rejected by your job's requirements\n` +
    `  ${String(rejectJob).padStart(5)} slots reject your job because of their own requirements\n` +
    `  ${String(willing).padStart(5)} slots match and are willing to run your job\n`;
  if (perEntry.size > 0) {
    out += `\nSlots by entry (GLIDEIN_Entry_Name):\n`;
    const width = Math.max(...[...perEntry.keys()].map((k) => k.length));
    for (const [entry, e] of [...perEntry].sort(([a], [b]) => a.localeCompare(b))) {
      out += `    ${entry.padEnd(width)}  ${e.match} of ${e.slots} match\n`;
    }
  }
  out += formatEntryVerdicts(verdicts);
  if (willing === 0) {
    out += `\nWARNING:  Be advised:\n`;
    out +=
      rejectedByJob === slots.length
        ? `   No machines matched the job's constraints\n`
        : `   Job did not match any machines' constraints\n` +
          `   To see why, look at the START of a slot you think should match:\n` +
          `     updraft status -long -constraint 'Name == "SLOT"'\n`;
    const coming = verdicts.filter((v) => v.groups.length > 0 && !v.inDowntime).length;
    if (coming > 0) {
      out +=
        `   but ${coming} entr${coming === 1 ? "y matches" : "ies match"} the job: ` +
        `its frontend asks for pilots there, and the job waits for them\n`;
    } else if (verdicts.length > 0) {
      out += `   and no factory entry matches it either: no pilot will come for it as it is\n`;
    }
  }
  return out;
}

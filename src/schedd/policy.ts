/**
 * Job policy expressions evaluated as HTCondor's UserPolicy does. At exit: OnExitHold first, then
 * OnExitRemove (UNDEFINED counts as true, so a job leaves unless told otherwise; with
 * MaxRetries/JobMaxRetries and no OnExitRemove, a failed job runs again until it has completed
 * more than MaxRetries times). Periodically: PeriodicHold (not for held jobs), PeriodicRelease
 * (held jobs only), then PeriodicRemove. Pure: (ad, status, now) -> the decision.
 */
import {
  ClassAd,
  isTrueEquivalent,
  UNDEFINED,
  type EvalBound,
  type EvalBudget,
  type Value,
} from "../classad/index.js";
import { JOB } from "../ads/names.js";
import type { FnContext } from "../classad/functions/index.js";
import { HoldCode, JobStatus, getAttr, type JobAttrs } from "./job-status.js";
import { epochSeconds, type HoldInfo } from "./transitions.js";

export type ExitDecision =
  { kind: "complete" } | { kind: "requeue" } | { kind: "hold"; hold: HoldInfo };

export type PeriodicDecision =
  | { kind: "none" }
  | { kind: "hold"; hold: HoldInfo }
  | { kind: "release"; reason: string }
  | { kind: "remove"; reason: string }
  /** `expr` (or the reason it gives) met an evaluation bound: nothing was decided. */
  | { kind: "bound"; expr: string; bound: EvalBound };

const EXIT_POLICY_ATTRS = [JOB.OnExitHold, JOB.OnExitRemove, JOB.JobMaxRetries, JOB.MaxRetries];

type Tri = "true" | "false" | "undefined";

function evalAttr(ad: ClassAd, name: string, ctx: FnContext): Tri {
  if (!ad.has(name)) return "undefined";
  let v: Value;
  try {
    v = ad.evaluate(name, null, { ctx });
  } catch {
    return "undefined";
  }
  if (v === UNDEFINED) return "undefined";
  return isTrueEquivalent(v) ? "true" : "false";
}

function exprText(attrs: JobAttrs, name: string): string {
  return getAttr(attrs, name) ?? "";
}

/** The reason an expression gives (e.g. PeriodicHoldReason), or HTCondor's default sentence. */
function reasonFor(ad: ClassAd, attrs: JobAttrs, expr: string, reasonAttr: string, ctx: FnContext) {
  if (ad.has(reasonAttr)) {
    const v = ad.evaluate(reasonAttr, null, { ctx });
    if (typeof v === "string" && v !== "") return v;
  }
  return `The job attribute ${expr} expression '${exprText(attrs, expr)}' evaluated to TRUE`;
}

function policyHold(
  ad: ClassAd,
  attrs: JobAttrs,
  expr: string,
  reasonAttr: string,
  ctx: FnContext,
): HoldInfo {
  const subcode = ad.evaluate(`${expr}SubCode`, null, { ctx });
  return {
    reason: reasonFor(ad, attrs, expr, reasonAttr, ctx),
    code: HoldCode.JobPolicy,
    subcode: typeof subcode === "number" ? subcode : 0,
  };
}

/** After ExitCode/ExitBySignal/NumJobCompletions were recorded on `attrs`. */
export function exitPolicy(attrs: JobAttrs, nowMs: number): ExitDecision {
  // Most jobs carry no exit policy: they leave the queue, without parsing the ad.
  if (!EXIT_POLICY_ATTRS.some((n) => getAttr(attrs, n) !== undefined)) return { kind: "complete" };
  const ad = ClassAd.fromJSON(attrs);
  const ctx = { now: () => epochSeconds(nowMs) };
  if (evalAttr(ad, JOB.OnExitHold, ctx) === "true") {
    return { kind: "hold", hold: policyHold(ad, attrs, JOB.OnExitHold, JOB.OnExitHoldReason, ctx) };
  }
  const remove = evalAttr(ad, JOB.OnExitRemove, ctx);
  if (remove === "true") return { kind: "complete" };
  if (remove === "false") return { kind: "requeue" };
  return retriesExhaustedOrSucceeded(ad, nowMs) ? { kind: "complete" } : { kind: "requeue" };
}

/** The default OnExitRemove when retries are asked for: success, or no retries left. */
function retriesExhaustedOrSucceeded(ad: ClassAd, nowMs: number): boolean {
  const name = ad.has(JOB.JobMaxRetries)
    ? JOB.JobMaxRetries
    : ad.has(JOB.MaxRetries)
      ? JOB.MaxRetries
      : "";
  if (name === "") return true;
  const ctx = { ctx: { now: () => epochSeconds(nowMs) } };
  const max = ad.evaluate(name, null, ctx);
  if (typeof max !== "number") return true;
  const bySignal = ad.evaluate(JOB.ExitBySignal, null, ctx) === true;
  const code = ad.evaluate(JOB.ExitCode, null, ctx);
  const success = !bySignal && code === successExitCode(ad);
  const completions = ad.evaluate(JOB.NumJobCompletions, null, ctx);
  return success || (typeof completions === "number" && completions > max);
}

function successExitCode(ad: ClassAd): number {
  const v = ad.evaluate(JOB.SuccessExitCode, null);
  return typeof v === "number" ? v : 0;
}

/**
 * One periodic evaluation of a job in the queue. With `budget`, every expression of the job
 * (reasons and subcodes included) draws from it, and the first bound met ends the evaluation.
 */
export function periodicPolicy(
  attrs: JobAttrs,
  status: number,
  nowMs: number,
  budget?: EvalBudget,
): PeriodicDecision {
  if (status !== JobStatus.Idle && status !== JobStatus.Running && status !== JobStatus.Held) {
    return { kind: "none" };
  }
  // Most jobs carry none of these; skip parsing the ad for them.
  if (
    getAttr(attrs, JOB.PeriodicHold) === undefined &&
    getAttr(attrs, JOB.PeriodicRelease) === undefined &&
    getAttr(attrs, JOB.PeriodicRemove) === undefined
  ) {
    return { kind: "none" };
  }
  const ad = ClassAd.fromJSON(attrs);
  const ctx = { now: () => epochSeconds(nowMs), ...(budget ? { budget } : {}) };
  const bound = (expr: string): PeriodicDecision | undefined =>
    budget?.hit ? { kind: "bound", expr, bound: budget.hit } : undefined;
  if (status !== JobStatus.Held) {
    const hold = evalAttr(ad, JOB.PeriodicHold, ctx);
    if (bound(JOB.PeriodicHold)) return bound(JOB.PeriodicHold)!;
    if (hold === "true") {
      const info = policyHold(ad, attrs, JOB.PeriodicHold, JOB.PeriodicHoldReason, ctx);
      return bound(JOB.PeriodicHold) ?? { kind: "hold", hold: info };
    }
  }
  if (status === JobStatus.Held) {
    const release = evalAttr(ad, JOB.PeriodicRelease, ctx);
    if (bound(JOB.PeriodicRelease)) return bound(JOB.PeriodicRelease)!;
    if (release === "true") {
      return { kind: "release", reason: reasonFor(ad, attrs, JOB.PeriodicRelease, "", ctx) };
    }
  }
  const remove = evalAttr(ad, JOB.PeriodicRemove, ctx);
  if (bound(JOB.PeriodicRemove)) return bound(JOB.PeriodicRemove)!;
  if (remove === "true") {
    const reason = reasonFor(ad, attrs, JOB.PeriodicRemove, "", ctx);
    return bound(JOB.PeriodicRemove) ?? { kind: "remove", reason };
  }
  return { kind: "none" };
}

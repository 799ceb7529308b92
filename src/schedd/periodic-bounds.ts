/**
 * Bounds on the schedd's periodic policy pass (PeriodicHold/Release/Remove of every job, every
 * `periodic_s`): a user's expression is evaluated on the schedd's event loop, so each job's
 * expressions get a step budget, the pass gets one, and the pass yields between slices.
 */
import { describeBound, type EvalBound } from "../classad/index.js";
import { HoldCode, type JobId } from "./job-status.js";
import type { HoldInfo } from "./transitions.js";

export interface PeriodicBounds {
  /** Steps one job's periodic expressions (and the reasons they give) may take per pass. */
  jobStepBudget: number;
  /** Steps one pass may take over all jobs; jobs past it are evaluated first next pass. */
  passStepBudget: number;
  /** Steps evaluated between yields to the event loop. */
  sliceSteps: number;
  /** Longest stretch between yields, in milliseconds, however few steps it took. */
  sliceMs: number;
}

export const DEFAULT_PERIODIC_BOUNDS: PeriodicBounds = {
  jobStepBudget: 1_000_000,
  passStepBudget: 50_000_000,
  sliceSteps: 200_000,
  sliceMs: 20,
};

export type PeriodicPass = {
  /** Jobs held, released or removed by their policy (or held for meeting a bound). */
  changed: { id: JobId; kind: string }[];
  /** Jobs whose expressions met a bound this pass. */
  overBound: { id: JobId; expr: string; bound: EvalBound }[];
  /** Jobs not evaluated because the pass's budget ran out. */
  deferred: number;
  /** Steps the pass took. */
  steps: number;
};

/** The hold of a job whose periodic expression met a bound, telling its owner what to do. */
export function overBoundHold(expr: string, bound: EvalBound, jobStepBudget: number): HoldInfo {
  const which =
    bound === "steps"
      ? `${describeBound(bound)} (${jobStepBudget} steps per job)`
      : describeBound(bound);
  return {
    reason: `The job attribute ${expr} expression could not be evaluated within ${which}; simplify it with updraft qedit, then updraft release the job`,
    code: HoldCode.JobPolicyUndefined,
    subcode: 0,
  };
}

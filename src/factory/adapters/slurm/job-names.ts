/**
 * Pure: how a pilot is named in Slurm, and back. A single pilot is the job
 * `<prefix><handle>`; the pilots of one job array are the tasks of the job `<prefix><array key>`,
 * the key `<first intent id>-<8 hex>-array`, task `t` being the pilot with intent id `first + t`
 * and handle `<first + t>-<8 hex>`. Either way a job's name and id are enough to know which
 * pilot it is, with no record of the submission at all.
 */
import { isHandle } from "./records.js";
import { UpdraftError } from "../../../common/errors.js";

/** Slurm answered (squeue's JSON or text, a job name, an array task list) in a form not read. */
export class SlurmAnswerError extends UpdraftError {
  readonly code = "slurm-answer";
  override name = "SlurmAnswerError";
}

const ARRAY_KEY = /^(\d+)-([0-9a-f]{8})-array$/;

export function arrayKey(firstIntentId: number, hex: string): string {
  return `${firstIntentId}-${hex}-array`;
}

export function isArrayKey(s: string): boolean {
  return ARRAY_KEY.test(s);
}

/** The handle of task `task` of the array `key`. */
export function taskHandle(key: string, task: number): string {
  const m = ARRAY_KEY.exec(key);
  if (!m) throw new SlurmAnswerError(`'${key}' is not a job array key`);
  return `${Number(m[1]) + task}-${m[2]}`;
}

/** `123_4`: Slurm's name of one array task, as squeue, scancel and sacct take it. */
export function taskJobId(arrayJobId: string, task: number): string {
  return `${arrayJobId}_${task}`;
}

export interface NamedPilot {
  handle: string;
  intentId: number;
  /** Set for an array task: the array's key and the task id. */
  array?: { key: string; task: number };
}

/**
 * The pilot a job of this adapter is (its name without the prefix, its id as squeue prints it),
 * or undefined when the name is none of this adapter's.
 */
export function pilotOfJob(name: string, jobId: string): NamedPilot | undefined {
  if (isHandle(name)) return { handle: name, intentId: Number(name.split("-")[0]) };
  if (!isArrayKey(name)) return undefined;
  const task = /^\d+_(\d+)$/.exec(jobId)?.[1];
  if (task === undefined) return undefined;
  const handle = taskHandle(name, Number(task));
  return {
    handle,
    intentId: Number(handle.split("-")[0]),
    array: { key: name, task: Number(task) },
  };
}

/** Slurm's largest array index is bounded; a range beyond this is not one of ours. */
const MAX_TASKS = 1_000_000;

/**
 * The task ids of a task list as Slurm prints them for a pending array (`1-4`, `1-2,4-6%3`,
 * `0-15:4`): the throttle after `%` is dropped. Throws on anything else.
 */
export function expandTasks(list: string): number[] {
  const body = list.replace(/%\d+$/, "");
  const out: number[] = [];
  for (const part of body.split(",")) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (!m) throw new SlurmAnswerError(`'${list}' is not a Slurm array task list`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from || step < 1 || out.length + (to - from) / step > MAX_TASKS) {
      throw new SlurmAnswerError(`'${list}' is not a Slurm array task list`);
    }
    for (let t = from; t <= to; t += step) out.push(t);
  }
  return out;
}

/** `--array`'s value for these task ids: `0-4`, `1,3-5`. */
export function compressTasks(tasks: readonly number[]): string {
  const sorted = [...new Set(tasks)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * A batch split into job arrays: runs of consecutive intent ids with the same resources, at most
 * `maxTasks` each (task `t` is then intent `first + t`, as the array's name says). A run of one
 * is a job of its own. Order is kept.
 */
export function arrayRuns<T extends { intentId: number; resources: object }>(
  batch: readonly T[],
  maxTasks: number,
): T[][] {
  const runs: T[][] = [];
  for (const spec of batch) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    const joins =
      run !== undefined &&
      last !== undefined &&
      run.length < maxTasks &&
      spec.intentId === last.intentId + 1 &&
      JSON.stringify(spec.resources) === JSON.stringify(last.resources);
    if (joins) run.push(spec);
    else runs.push([spec]);
  }
  return runs;
}

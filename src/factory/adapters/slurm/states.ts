/**
 * Pure: Slurm's view of a job (from `squeue --json`, squeue's text format, the jobcomp/filetxt
 * file or sacct) and its mapping to the adapter's states. No IO here.
 */
import { pilotEnded } from "../exit-status.js";
import type { PilotStatus } from "../types.js";
import { expandTasks, SlurmAnswerError, taskJobId } from "./job-names.js";

/**
 * One job as Slurm reports it. `exitCode` is already a shell-style status (0-255). An array
 * task's `jobId` is `<array job id>_<task id>`, as scancel and sacct take it.
 */
export interface SlurmJob {
  jobId: string;
  name: string;
  state: string;
  reason: string;
  exitCode?: number;
  /**
   * Set on the one record Slurm keeps for an array's tasks that have not started yet (`jobId`
   * is then the array's job id): their ids, as Slurm prints them (`1-4`, `1,3-9%2`).
   */
  pendingTasks?: string;
  /** The owner's uid, where the listing says it. */
  userId?: number;
}

/** A pending array's record as one record per task; any other job as it is. */
export function expandArray(job: SlurmJob): SlurmJob[] {
  if (job.pendingTasks === undefined) return [job];
  const { pendingTasks: _, ...rest } = job;
  return expandTasks(job.pendingTasks).map((t) => ({ ...rest, jobId: taskJobId(job.jobId, t) }));
}

/** Pending reasons that mean the job can never start as submitted (the request is wrong). */
const CANNOT_RUN = new Set([
  "BadConstraints",
  "PartitionConfig",
  "PartitionNodeLimit",
  "PartitionTimeLimit",
  "InvalidAccount",
  "InvalidQOS",
  "AccountNotAllowed",
  "QOSNotAllowed",
  "PartitionDown",
  "PartitionInactive",
]);

const RUNNING = new Set([
  "RUNNING",
  "CONFIGURING",
  "COMPLETING",
  "SUSPENDED",
  "STOPPED",
  "SIGNALING",
  "STAGE_OUT",
  "RESIZING",
]);
const FAILED = new Set([
  "FAILED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "BOOT_FAIL",
  "DEADLINE",
  "PREEMPTED",
]);
const IDLE = new Set(["PENDING", "REQUEUED", "REQUEUE_FED"]);

/**
 * A wait(2) status as squeue --json reports `exit_code`: a signal in the low 7 bits (reported
 * the shell's way, 128 + signal), else the exit status in the next byte.
 */
export function decodeWaitStatus(raw: number): number {
  const sig = raw & 0x7f;
  return sig !== 0 ? 128 + sig : (raw >> 8) & 0xff;
}

/** Slurm's `EXIT:SIGNAL` pair (jobcomp, sacct) as a shell-style status. */
export function decodeExitPair(text: string): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const sig = Number(m[2]);
  return sig !== 0 ? 128 + sig : Number(m[1]);
}

/**
 * Whether a job ended in a state that carries an exit status which this listing lacks (squeue's
 * text format has none), so the status must come from jobcomp, sacct or the exit_code file.
 */
export function lacksExitStatus(job: SlurmJob): boolean {
  const state = baseState(job.state);
  return job.exitCode === undefined && (state === "COMPLETED" || FAILED.has(state));
}

/** Slurm's state names come with qualifiers in some outputs ("CANCELLED by 0", "FAILED+"). */
export function baseState(state: string): string {
  return state.trim().split(/[\s+]/)[0]!.toUpperCase();
}

export function mapJob(handle: string, job: SlurmJob): PilotStatus {
  const state = baseState(job.state);
  if (state === "PENDING" && (job.reason === "JobHeldUser" || job.reason === "JobHeldAdmin")) {
    return {
      handle,
      state: "Held",
      holdReason: `Slurm job ${job.jobId} is held (${job.reason})`,
      // A user hold is ours to release; an admin hold is the site's decision.
      holdRecoverable: job.reason === "JobHeldUser",
    };
  }
  if (state === "PENDING" && CANNOT_RUN.has(job.reason)) {
    return {
      handle,
      state: "Held",
      holdReason: `Slurm cannot run job ${job.jobId} as requested (${job.reason})`,
      holdRecoverable: false,
    };
  }
  if (state === "REQUEUE_HOLD" || state === "SPECIAL_EXIT") {
    return {
      handle,
      state: "Held",
      holdReason: `Slurm job ${job.jobId} is ${state}`,
      holdRecoverable: true,
    };
  }
  if (IDLE.has(state)) return { handle, state: "Idle" };
  if (RUNNING.has(state)) return { handle, state: "Running" };
  if (state === "CANCELLED") return { handle, state: "Removed" };
  if (state === "COMPLETED") return pilotEnded(handle, job.exitCode ?? 0);
  if (FAILED.has(state)) {
    if (job.reason === "JobLaunchFailure") {
      return {
        handle,
        state: "Held",
        holdReason: `Slurm could not launch job ${job.jobId} (JobLaunchFailure)`,
        holdRecoverable: false,
      };
    }
    // A failure state must never read as success, even when Slurm recorded no status.
    const code = job.exitCode !== undefined && job.exitCode !== 0 ? job.exitCode : 1;
    return pilotEnded(handle, code);
  }
  return { handle, state: "Unknown" };
}

/** `squeue --json` (Slurm 21.08+): every job the controller still knows. */
export function parseSqueueJson(text: string): SlurmJob[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SlurmAnswerError(
      `squeue --json answered something that is not JSON: ${(err as Error).message}`,
    );
  }
  const jobs = (doc as { jobs?: unknown }).jobs;
  if (!Array.isArray(jobs))
    throw new SlurmAnswerError("squeue --json answered without a 'jobs' array");
  return jobs.map((j: Record<string, unknown>, i) => {
    if (typeof j.job_id !== "number" || typeof j.job_state !== "string") {
      throw new SlurmAnswerError(
        `squeue --json: jobs[${i}] has no numeric job_id or string job_state`,
      );
    }
    const raw = typeof j.exit_code === "number" ? j.exit_code : undefined;
    const job: SlurmJob = {
      jobId: String(j.job_id),
      name: typeof j.name === "string" ? j.name : "",
      state: j.job_state,
      reason: typeof j.state_reason === "string" ? j.state_reason : "",
      exitCode: raw === undefined ? undefined : decodeWaitStatus(raw),
    };
    if (typeof j.user_id === "number") job.userId = j.user_id;
    // An array task: its own record once started, else within the array's pending record.
    if (typeof j.array_job_id === "number" && j.array_job_id > 0) {
      if (typeof j.array_task_id === "number") {
        job.jobId = taskJobId(String(j.array_job_id), j.array_task_id);
      } else if (typeof j.array_task_string === "string" && j.array_task_string !== "") {
        job.jobId = String(j.array_job_id);
        job.pendingTasks = j.array_task_string;
      }
    }
    return job;
  });
}

/** The text format asked for by SQUEUE_TEXT_FORMAT; squeue's text output has no exit status. */
export const SQUEUE_TEXT_FORMAT = "%i|%T|%r|%j";

export function parseSqueueText(text: string): SlurmJob[] {
  const out: SlurmJob[] = [];
  for (const [n, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const parts = line.split("|");
    // `12`, an array task `12_3`, an array's pending tasks `12_[3-9%2]`, a het job part `12+0`.
    const id = /^(\d+(?:_\d+|\+\d+)?)(?:_\[([0-9,:%-]+)\])?$/.exec(parts[0]!);
    if (parts.length < 4 || !id) {
      throw new SlurmAnswerError(
        `squeue line ${n + 1} is not 'id|state|reason|name': ${JSON.stringify(line)}`,
      );
    }
    const job: SlurmJob = {
      jobId: id[1]!,
      state: parts[1]!,
      reason: parts[2]!,
      name: parts.slice(3).join("|"),
    };
    if (id[2] !== undefined) job.pendingTasks = id[2];
    out.push(job);
  }
  return out;
}

/**
 * jobcomp/filetxt lines: `JobId=12 UserId=... Name=x JobState=FAILED ... ExitCode=3:0`, an array
 * task's with `ArrayJobId=10 ArrayTaskId=2` (keyed `10_2`). Only jobs whose name `wanted` takes
 * are kept; a later line for the same job (a requeue) wins.
 */
export function parseJobcomp(
  text: string,
  wanted: (name: string) => boolean,
): Map<string, SlurmJob> {
  const out = new Map<string, SlurmJob>();
  for (const line of text.split("\n")) {
    if (!/^JobId=\d+ /.test(line)) continue;
    const field = (k: string): string => new RegExp(`(?:^| )${k}=(\\S*)`).exec(line)?.[1] ?? "";
    if (!wanted(field("Name"))) continue;
    const arrayJob = field("ArrayJobId");
    const id = /^[1-9]\d*$/.test(arrayJob)
      ? taskJobId(arrayJob, Number(field("ArrayTaskId")))
      : field("JobId");
    out.set(id, {
      jobId: id,
      name: field("Name"),
      state: field("JobState"),
      reason: "",
      exitCode: decodeExitPair(field("ExitCode")),
    });
  }
  return out;
}

/** `sacct -X -n -P -o JobID,State,ExitCode,JobName`. */
export function parseSacct(text: string): Map<string, SlurmJob> {
  const out = new Map<string, SlurmJob>();
  for (const line of text.split("\n")) {
    const [jobId, state, exit, ...name] = line.split("|");
    // Array tasks are `10_2`; an array's pending tasks (`10_[3-9]`) have no outcome yet.
    if (!jobId || !state || !/^\d+(_\d+)?$/.test(jobId)) continue;
    out.set(jobId, {
      jobId,
      state,
      reason: "",
      name: name.join("|"),
      exitCode: decodeExitPair(exit ?? ""),
    });
  }
  return out;
}

/**
 * What Slurm knows about this adapter's jobs: squeue (JSON, or the text format where JSON is not
 * available) over the submitting user's jobs only, and for jobs squeue has forgotten the
 * jobcomp/filetxt file, sacct, or the pilot's own exit_code file, in that order. Nothing here
 * takes "not in squeue" for success. Array tasks are listed one by one, pending ones included.
 */
import type { Logger } from "../../../common/logger.js";
import { SlurmCommandError, type SlurmHost } from "./host.js";
import { pilotOfJob, type NamedPilot } from "./job-names.js";
import {
  configScript,
  exitCodesScript,
  jobcompScript,
  jsonUnsupported,
  parseConfig,
  parseExitCodes,
  parseJobcomp as parseJobcompAnswer,
  sacctScript,
  squeueJsonScript,
  squeueTextScript,
} from "./scripts.js";
import type { SlurmSettings } from "./settings.js";
import {
  parseJobcomp,
  parseSacct,
  expandArray,
  parseSqueueJson,
  parseSqueueText,
  SQUEUE_TEXT_FORMAT,
  type SlurmJob,
} from "./states.js";

/** How far back a first read of the jobcomp file goes; it grows for the life of the cluster. */
const JOBCOMP_FIRST_READ = 32 * 1024 * 1024;

export interface ListedPilot extends NamedPilot {
  job: SlurmJob;
}

export interface Listing {
  /** The user's jobs by id; this adapter's array tasks each by their own (`123_4`). */
  byId: Map<string, SlurmJob>;
  /** This adapter's pilots by the handle their job's name and id say. */
  byHandle: Map<string, ListedPilot>;
}

export interface SlurmConfig {
  jobcomp?: string;
  accounting: boolean;
  /** Slurm's MaxArraySize: task ids stay below it; 0 means no arrays. */
  maxArraySize: number;
}

export interface JobLookup {
  /** Every job of the submitting user squeue knows, this adapter's by handle too. */
  list(): Promise<Listing>;
  /** The settings of Slurm this adapter depends on, read once. */
  config(): Promise<SlurmConfig>;
  /** Jobs squeue no longer shows, from jobcomp or sacct; those not found are left out. */
  forgotten(ids: readonly string[]): Promise<Map<string, SlurmJob>>;
  /** The pilots' own exit_code files; pilots without one are left out. */
  exitCodes(pilots: readonly { handle: string; dir: string }[]): Promise<Map<string, number>>;
}

/** The `@@USER <uid>` line squeueJsonScript prints, then squeue's JSON. */
function splitSqueueJson(stdout: string): { uid?: number; text: string } {
  const m = /^@@USER (\d+)\n/m.exec(stdout);
  if (!m) return { text: stdout };
  return { uid: Number(m[1]), text: stdout.slice(m.index + m[0].length) };
}

function failure(what: string, where: string, r: { code: number; stderr: string }): Error {
  return new SlurmCommandError(
    `${what} failed (${where}, exit ${r.code}): ${r.stderr.trim() || "no message"}`,
  );
}

export function createJobLookup(
  settings: SlurmSettings,
  host: SlurmHost,
  namePrefix: string,
  logger: Logger,
): JobLookup {
  let json = true;
  let config: SlurmConfig | undefined;
  let jobcompOffset: number | undefined;
  /** This adapter's finished jobs seen in the jobcomp file so far. */
  const jobcompSeen = new Map<string, SlurmJob>();

  async function squeue(): Promise<SlurmJob[]> {
    if (json) {
      const r = await host.run(squeueJsonScript(settings));
      if (r.code === 0) {
        const { uid, text } = splitSqueueJson(r.stdout);
        // Slurm 22.05's --json ignores --user: the owner is checked here as well.
        return parseSqueueJson(text).filter((j) => j.userId === undefined || j.userId === uid);
      }
      if (!jsonUnsupported(r.stderr)) throw failure("squeue --json", host.where, r);
      logger.info({ stderr: r.stderr.trim() }, "squeue has no --json; using its text format");
      json = false;
    }
    const r = await host.run(squeueTextScript(settings, SQUEUE_TEXT_FORMAT));
    if (r.code !== 0) throw failure("squeue", host.where, r);
    return parseSqueueText(r.stdout);
  }

  async function slurmConfig(): Promise<SlurmConfig> {
    if (config) return config;
    const r = await host.run(configScript(settings));
    if (r.code !== 0) throw failure("scontrol show config", host.where, r);
    const c = parseConfig(r.stdout);
    const filetxt = c.get("JobCompType") === "jobcomp/filetxt";
    config = {
      jobcomp: settings.jobcomp_file ?? (filetxt ? c.get("JobCompLoc") : undefined),
      accounting:
        (c.get("AccountingStorageType") ?? "accounting_storage/none") !== "accounting_storage/none",
      // Slurm's default when the line is missing or unreadable.
      maxArraySize: /^\d+$/.test(c.get("MaxArraySize") ?? "")
        ? Number(c.get("MaxArraySize"))
        : 1001,
    };
    return config;
  }

  async function readJobcomp(file: string): Promise<void> {
    const start = jobcompOffset ?? -1;
    const r = await host.run(jobcompScript(file, Math.max(0, start)));
    if (r.code !== 0) throw failure(`reading ${file}`, host.where, r);
    const a = parseJobcompAnswer(r.stdout);
    if (!a) return; // missing: nothing finished yet, or not readable from here
    let { from, text } = a;
    if (start < 0 && a.size > JOBCOMP_FIRST_READ) {
      // First read of a big file: only its recent part can hold this adapter's jobs' ends.
      text = text.slice(text.length - JOBCOMP_FIRST_READ);
      from = a.size - Buffer.byteLength(text);
    }
    // Only whole lines; a line being written is read next time.
    const end = text.lastIndexOf("\n") + 1;
    const whole = text.slice(0, end);
    jobcompOffset = from + Buffer.byteLength(whole);
    const ours = (name: string): boolean => name.startsWith(namePrefix);
    for (const [id, job] of parseJobcomp(whole, ours)) jobcompSeen.set(id, job);
  }

  return {
    async list() {
      const byId = new Map<string, SlurmJob>();
      const byHandle = new Map<string, ListedPilot>();
      for (const listed of await squeue()) {
        if (!listed.name.startsWith(namePrefix)) {
          byId.set(listed.jobId, listed);
          continue;
        }
        for (const j of expandArray(listed)) {
          byId.set(j.jobId, j);
          const pilot = pilotOfJob(j.name.slice(namePrefix.length), j.jobId);
          if (pilot) byHandle.set(pilot.handle, { ...pilot, job: j });
        }
      }
      return { byId, byHandle };
    },

    config: slurmConfig,

    async forgotten(ids) {
      const out = new Map<string, SlurmJob>();
      if (ids.length === 0) return out;
      const c = await slurmConfig();
      if (c.jobcomp) {
        await readJobcomp(c.jobcomp);
        for (const id of ids) {
          const j = jobcompSeen.get(id);
          // The caller keeps the outcome; the cache holds only outcomes not yet asked for.
          if (j) {
            out.set(id, j);
            jobcompSeen.delete(id);
          }
        }
      }
      const rest = ids.filter((id) => !out.has(id));
      if (c.accounting && rest.length > 0) {
        const r = await host.run(sacctScript(settings, rest));
        if (r.code !== 0) throw failure("sacct", host.where, r);
        for (const [id, j] of parseSacct(r.stdout)) if (rest.includes(id)) out.set(id, j);
      }
      return out;
    },

    async exitCodes(pilots) {
      if (pilots.length === 0) return new Map();
      const r = await host.run(exitCodesScript(pilots));
      if (r.code !== 0) throw failure("reading exit_code files", host.where, r);
      return parseExitCodes(r.stdout);
    },
  };
}

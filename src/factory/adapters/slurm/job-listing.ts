/**
 * What Slurm knows about this adapter's jobs: squeue (JSON, or the text format where JSON is not
 * available), and for jobs squeue has forgotten the jobcomp/filetxt file, sacct, or the pilot's
 * own exit_code file, in that order. Nothing here takes "not in squeue" for success.
 */
import type { Logger } from "../../../common/logger.js";
import type { SlurmHost } from "./host.js";
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
  parseSqueueJson,
  parseSqueueText,
  SQUEUE_TEXT_FORMAT,
  type SlurmJob,
} from "./states.js";

/** How far back a first read of the jobcomp file goes; it grows for the life of the cluster. */
const JOBCOMP_FIRST_READ = 32 * 1024 * 1024;

export interface Listing {
  byId: Map<string, SlurmJob>;
  /** This adapter's jobs by the handle in their name. */
  byHandle: Map<string, SlurmJob>;
}

export interface JobLookup {
  /** Every job squeue knows with this adapter's name prefix. */
  list(): Promise<Listing>;
  /** Jobs squeue no longer shows, from jobcomp or sacct; those not found are left out. */
  forgotten(ids: readonly string[]): Promise<Map<string, SlurmJob>>;
  /** The pilots' own exit_code files; pilots without one are left out. */
  exitCodes(pilots: readonly { handle: string; dir: string }[]): Promise<Map<string, number>>;
}

function failure(what: string, where: string, r: { code: number; stderr: string }): Error {
  return new Error(`${what} failed (${where}, exit ${r.code}): ${r.stderr.trim() || "no message"}`);
}

export function createJobLookup(
  settings: SlurmSettings,
  host: SlurmHost,
  namePrefix: string,
  logger: Logger,
): JobLookup {
  let json = true;
  let config: { jobcomp?: string; accounting: boolean } | undefined;
  let jobcompOffset: number | undefined;
  /** This adapter's finished jobs seen in the jobcomp file so far. */
  const jobcompSeen = new Map<string, SlurmJob>();

  async function squeue(): Promise<SlurmJob[]> {
    if (json) {
      const r = await host.run(squeueJsonScript(settings));
      if (r.code === 0) return parseSqueueJson(r.stdout);
      if (!jsonUnsupported(r.stderr)) throw failure("squeue --json", host.where, r);
      logger.info({ stderr: r.stderr.trim() }, "squeue has no --json; using its text format");
      json = false;
    }
    const r = await host.run(squeueTextScript(settings, SQUEUE_TEXT_FORMAT));
    if (r.code !== 0) throw failure("squeue", host.where, r);
    return parseSqueueText(r.stdout);
  }

  async function slurmConfig(): Promise<{ jobcomp?: string; accounting: boolean }> {
    if (config) return config;
    const r = await host.run(configScript(settings));
    if (r.code !== 0) throw failure("scontrol show config", host.where, r);
    const c = parseConfig(r.stdout);
    const filetxt = c.get("JobCompType") === "jobcomp/filetxt";
    config = {
      jobcomp: settings.jobcomp_file ?? (filetxt ? c.get("JobCompLoc") : undefined),
      accounting:
        (c.get("AccountingStorageType") ?? "accounting_storage/none") !== "accounting_storage/none",
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
    const ours = new Set<string>();
    for (const m of whole.matchAll(/^JobId=(\d+) .*?Name=(\S*)/gm)) {
      if (m[2]!.startsWith(namePrefix)) ours.add(m[1]!);
    }
    for (const [id, job] of parseJobcomp(whole, ours)) jobcompSeen.set(id, job);
  }

  return {
    async list() {
      const byId = new Map<string, SlurmJob>();
      const byHandle = new Map<string, SlurmJob>();
      for (const j of await squeue()) {
        byId.set(j.jobId, j);
        if (j.name.startsWith(namePrefix)) byHandle.set(j.name.slice(namePrefix.length), j);
      }
      return { byId, byHandle };
    },

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

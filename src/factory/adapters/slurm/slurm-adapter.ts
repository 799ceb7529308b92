/**
 * The `slurm` grid adapter: one batch script per pilot, submitted with `sbatch --parsable`, a
 * batch of like pilots as one job array (one task per pilot); states in bulk from
 * `squeue --json`, `scancel` to remove, `scontrol release` for held jobs. The commands run on
 * this machine, or on a login node over SSH with the pilot files copied there first (BOSCO
 * style). Every job's name is this adapter's prefix (unique to its state dir) and a handle or
 * array key that starts with an intent id (job-names.ts), so a restarted factory finds every
 * pilot again, even one whose job id it never wrote down.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type {
  AdapterContext,
  GridAdapter,
  PilotOutput,
  PilotSpec,
  PilotStatus,
  RecoveredPilot,
  SubmitResult,
} from "../types.js";
import {
  arraySbatchArgs,
  arrayScript,
  batchScript,
  parseSbatchId,
  PILOT_FILES,
  refusalIsTransient,
  sbatchArgs,
  withTasks,
} from "./batch-script.js";
import { createLocalHost, createSshHost, SlurmCommandError } from "./host.js";
import { createJobLookup, type Listing } from "./job-listing.js";
import { arrayKey, arrayRuns, compressTasks, taskHandle, taskJobId } from "./job-names.js";
import { createRecordBook, isHandle, type PilotRecord, type Staging } from "./records.js";
import {
  cancelScript,
  outputScript,
  parseOutput,
  parseSubmitAnswers,
  purgeScript,
  releaseScript,
  submitScript,
  type FileToWrite,
  type SubmitItem,
} from "./scripts.js";
import { parseSlurmSettings } from "./settings.js";
import { pilotEnded } from "../exit-status.js";
import { lacksExitStatus, mapJob, type SlurmJob } from "./states.js";

export function createSlurmAdapter(raw: Record<string, unknown>, ctx: AdapterContext): GridAdapter {
  const settings = parseSlurmSettings(raw);
  const stateDir = resolve(ctx.stateDir);
  const tag = createHash("sha256").update(stateDir).digest("hex").slice(0, 10);
  const namePrefix = `updraft-${tag}-`;
  const host = settings.ssh
    ? createSshHost(settings.ssh, stateDir)
    : createLocalHost(settings.command_timeout_s * 1000);
  const base = settings.ssh ? `${settings.ssh.remote_dir}/${tag}` : join(stateDir, "pilots");
  const records = createRecordBook(stateDir);
  const lookup = createJobLookup(settings, host, namePrefix, ctx.logger);
  /** Command copies known to be on the login node already. */
  const copied = new Set<string>();

  /** In SSH mode a command that is a file here is copied to the login node, once per content. */
  function commandFor(command: string): { path: string; copy?: { from: string; to: string } } {
    if (!settings.ssh) return { path: command };
    let isFile = false;
    try {
      isFile = statSync(command).isFile();
    } catch {
      // Not a local file: a command on the login node's PATH, or a path there.
    }
    if (!isFile) return { path: command };
    const sum = createHash("sha256").update(readFileSync(command)).digest("hex").slice(0, 16);
    const to = `${base}/files/${sum}-${basename(command).replace(/[^A-Za-z0-9_.+-]/g, "_")}`;
    return { path: to, copy: { from: command, to } };
  }

  /** What to stage for one pilot whose folder is `dir`. */
  function stagingOf(spec: PilotSpec, dir: string): Staging {
    const cmd = commandFor(spec.command);
    const credential = spec.credentialFile ? `${dir}/${PILOT_FILES.credential}` : undefined;
    const script = batchScript(spec, { dir, command: cmd.path, credential });
    return { script, credentialFile: spec.credentialFile, command: cmd.copy };
  }

  function prepare(spec: PilotSpec): PilotRecord {
    const handle = `${spec.intentId}-${randomBytes(4).toString("hex")}`;
    const dir = `${base}/${handle}`;
    return {
      handle,
      intentId: spec.intentId,
      submittedAt: ctx.now(),
      dir,
      sbatch: sbatchArgs(settings, spec, namePrefix + handle, dir),
      staging: stagingOf(spec, dir),
    };
  }

  /** The records of a job array's tasks; `run` has consecutive intent ids (arrayRuns). */
  function prepareArray(run: readonly PilotSpec[]): (PilotRecord | Error)[] {
    const key = arrayKey(run[0]!.intentId, randomBytes(4).toString("hex"));
    const dir = `${base}/${key}`;
    const sbatch = arraySbatchArgs(settings, run[0]!, namePrefix + key, dir);
    return run.map((spec, task) => {
      try {
        const taskDir = `${dir}/${task}`;
        return {
          handle: taskHandle(key, task),
          intentId: spec.intentId,
          submittedAt: ctx.now(),
          dir: taskDir,
          sbatch,
          array: { key, task },
          staging: stagingOf(spec, taskDir),
        };
      } catch (err) {
        return err as Error;
      }
    });
  }

  /** Most pilots per job array: 1 when arrays are off, or Slurm's settings cannot be read. */
  async function maxArrayTasks(): Promise<number> {
    if (!settings.job_arrays) return 1;
    try {
      const { maxArraySize } = await lookup.config();
      return Math.max(1, Math.min(settings.max_array_size ?? Infinity, maxArraySize));
    } catch (err) {
      ctx.logger.warn({ err, where: host.where }, "Slurm's MaxArraySize unknown: no job arrays");
      return 1;
    }
  }

  const arrayDirOf = (r: PilotRecord): string => `${base}/${r.array!.key}`;

  function filesOf(r: PilotRecord, st: Staging): FileToWrite[] {
    const files: FileToWrite[] = [];
    if (st.command && !copied.has(st.command.to)) {
      files.push({
        path: st.command.to,
        content: readFileSync(st.command.from),
        keepExisting: true,
        executable: true,
      });
    }
    files.push({
      path: `${r.dir}/${PILOT_FILES.script}`,
      content: Buffer.from(st.script),
      executable: true,
    });
    if (st.credentialFile) {
      files.push({
        path: `${r.dir}/${PILOT_FILES.credential}`,
        content: readFileSync(st.credentialFile),
      });
    }
    return files;
  }

  /** One sbatch: a pilot of its own, or the tasks of one job array given. */
  function itemOf(unit: PilotRecord[]): SubmitItem {
    const first = unit[0]!;
    if (!first.array) {
      return {
        key: first.handle,
        dir: first.dir,
        files: filesOf(first, first.staging!),
        sbatch: first.sbatch,
      };
    }
    const dir = arrayDirOf(first);
    const files = new Map<string, FileToWrite>();
    files.set(`${dir}/${PILOT_FILES.arrayScript}`, {
      path: `${dir}/${PILOT_FILES.arrayScript}`,
      content: Buffer.from(arrayScript(dir)),
      executable: true,
    });
    // Tasks sharing a command copy write it once.
    for (const r of unit) for (const f of filesOf(r, r.staging!)) files.set(f.path, f);
    return {
      key: first.array.key,
      dir,
      files: [...files.values()],
      sbatch: withTasks(first.sbatch, compressTasks(unit.map((r) => r.array!.task))),
    };
  }

  /** Stage and sbatch; every outcome lands in the record (job id, refusal, or unconfirmed). */
  async function sbatchAll(batch: PilotRecord[]): Promise<void> {
    if (batch.length === 0) return;
    const units = new Map<string, PilotRecord[]>();
    for (const r of batch) {
      const key = r.array?.key ?? r.handle;
      units.set(key, [...(units.get(key) ?? []), r]);
    }
    const items = [...units.values()].map(itemOf);
    let answers;
    try {
      const r = await host.run(submitScript(settings, items));
      answers = parseSubmitAnswers(r.stdout);
      if (answers.size === 0 && r.code !== 0)
        throw new SlurmCommandError(r.stderr.trim() || `exit ${r.code}`);
    } catch (err) {
      // Whether sbatch ran is unknown: the jobs' names will tell (status adopts them).
      const why = `submission not confirmed (${host.where}): ${(err as Error).message}`;
      for (const record of batch) records.update(record.handle, { unconfirmed: why });
      ctx.logger.warn({ err, where: host.where }, "slurm submission not confirmed");
      return;
    }
    for (const record of batch) {
      const a = answers.get(record.array?.key ?? record.handle);
      const copy = record.staging?.command;
      if (copy && a) copied.add(copy.to);
      if (!a) {
        records.update(record.handle, {
          unconfirmed: "the submit script stopped before this pilot",
        });
      } else if (a.kind === "stage-failed") {
        records.update(record.handle, {
          refused: {
            reason: `cannot write the pilot's files: ${a.error.trim()}`,
            recoverable: true,
          },
        });
      } else {
        const id = a.rc === 0 ? parseSbatchId(a.stdout) : undefined;
        if (id) {
          records.update(record.handle, {
            jobId: record.array ? taskJobId(id, record.array.task) : id,
            refused: undefined,
            unconfirmed: undefined,
            staging: undefined,
          });
        } else {
          const msg = (a.stderr.trim() || a.stdout.trim() || `exit ${a.rc}`).replace(/\s+/g, " ");
          records.update(record.handle, {
            refused: {
              reason: `sbatch refused the pilot: ${msg}`,
              recoverable: a.rc === 0 || refusalIsTransient(msg),
            },
          });
        }
      }
    }
  }

  /** Records without a job id whose job exists after all take its id (found by name). */
  function adopt(recs: PilotRecord[], listing: Listing): PilotRecord[] {
    return recs.map((r) => {
      if (r.jobId || r.refused) return r;
      const j = listing.byHandle.get(r.handle)?.job;
      const change = {
        jobId: j?.jobId,
        refused: undefined,
        unconfirmed: undefined,
        staging: undefined,
      };
      return j ? (records.update(r.handle, change) ?? r) : r;
    });
  }

  async function statusOf(handles: readonly string[]): Promise<Map<string, PilotStatus>> {
    const out = new Map<string, PilotStatus>();
    const live: PilotRecord[] = [];
    for (const h of handles) {
      const r = records.get(h);
      if (!r) out.set(h, { handle: h, state: "Unknown" });
      else if (r.final) out.set(h, r.final);
      else if (r.refused) {
        out.set(
          h,
          r.removed
            ? { handle: h, state: "Removed" }
            : {
                handle: h,
                state: "Held",
                holdReason: r.refused.reason,
                holdRecoverable: r.refused.recoverable,
              },
        );
      } else live.push(r);
    }
    if (live.length === 0) return out;
    const listing = await lookup.list();
    const gone: PilotRecord[] = [];
    /** Ended jobs squeue listed without an exit status: their listing is the last resort. */
    const listed = new Map<string, SlurmJob>();
    for (const r of adopt(live, listing)) {
      const job = r.jobId ? listing.byId.get(r.jobId) : undefined;
      if (job && lacksExitStatus(job)) {
        listed.set(r.handle, job);
        gone.push(r);
      } else if (job) out.set(r.handle, mapJob(r.handle, job));
      else if (r.jobId) gone.push(r);
      else if (r.removed) out.set(r.handle, { handle: r.handle, state: "Removed" });
      else {
        out.set(r.handle, {
          handle: r.handle,
          state: "Held",
          holdReason: r.unconfirmed ?? "the submission was not confirmed and no such job exists",
          holdRecoverable: true,
        });
      }
    }
    if (gone.length > 0) for (const [h, s] of await settleGone(gone, listed)) out.set(h, s);
    return out;
  }

  /**
   * Jobs squeue forgot (or listed without an exit status): jobcomp or sacct, then the exit_code
   * file, then what squeue listed; else Removed for a removed pilot, or Unknown.
   */
  async function settleGone(
    gone: PilotRecord[],
    listed: ReadonlyMap<string, SlurmJob>,
  ): Promise<Map<string, PilotStatus>> {
    const out = new Map<string, PilotStatus>();
    const known = await lookup.forgotten(gone.map((r) => r.jobId!));
    const rest = gone.filter((r) => !known.has(r.jobId!));
    const codes = await lookup.exitCodes(rest);
    for (const r of gone) {
      const job = known.get(r.jobId!);
      const code = codes.get(r.handle);
      let s: PilotStatus | undefined;
      if (job) s = mapJob(r.handle, job);
      else if (code !== undefined) s = pilotEnded(r.handle, code);
      else if (listed.has(r.handle)) s = mapJob(r.handle, listed.get(r.handle)!);
      else if (r.removed) s = { handle: r.handle, state: "Removed" };
      if (s && s.state !== "Unknown") records.update(r.handle, { final: s });
      out.set(r.handle, s ?? { handle: r.handle, state: "Unknown" });
    }
    return out;
  }

  /** Wait (bounded) until the scheduler has started each job or given it a pending reason. */
  async function settle(ids: (string | undefined)[]): Promise<void> {
    const wanted = ids.filter((id): id is string => id !== undefined);
    const end = Date.now() + settings.settle_s * 1000;
    while (wanted.length > 0 && Date.now() < end) {
      const { byId } = await lookup.list();
      const unseen = wanted.some((id) => {
        const j = byId.get(id);
        return j !== undefined && j.state === "PENDING" && (j.reason === "None" || j.reason === "");
      });
      if (!unseen) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function run(what: string, script: string, tolerate?: RegExp): Promise<void> {
    const r = await host.run(script);
    if (r.code !== 0 && !(tolerate && tolerate.test(r.stderr))) {
      throw new SlurmCommandError(
        `${what} failed (${host.where}, exit ${r.code}): ${r.stderr.trim()}`,
      );
    }
  }

  return {
    gridtype: "slurm",
    capabilities: { release: true, maxBatch: 100, output: true },

    async submit(batch: readonly PilotSpec[]): Promise<SubmitResult[]> {
      const results: SubmitResult[] = [];
      const ready: PilotRecord[] = [];
      const runs = arrayRuns(batch, batch.length > 1 ? await maxArrayTasks() : 1);
      for (const run of runs) {
        const prepared =
          run.length > 1
            ? prepareArray(run)
            : run.map((spec) => {
                try {
                  return prepare(spec);
                } catch (err) {
                  return err as Error;
                }
              });
        for (const [i, p] of prepared.entries()) {
          const intentId = run[i]!.intentId;
          try {
            if (p instanceof Error) throw p;
            filesOf(p, p.staging!); // an unreadable credential or command fails here, not remotely
            // Written before sbatch runs: a crash after it still leaves the job findable.
            records.put(p);
            ready.push(p);
            results.push({ intentId, ok: true, handle: p.handle });
          } catch (err) {
            results.push({ intentId, ok: false, error: (err as Error).message });
          }
        }
      }
      await sbatchAll(ready);
      if (settings.settle_s > 0) await settle(ready.map((r) => records.get(r.handle)?.jobId));
      return results;
    },

    status: statusOf,

    async remove(handles: readonly string[]): Promise<void> {
      let recs = handles
        .map((h) => records.get(h))
        .filter((r): r is PilotRecord => !!r && !r.final);
      for (const r of recs) records.update(r.handle, { removed: true });
      if (recs.some((r) => !r.jobId && !r.refused)) recs = adopt(recs, await lookup.list());
      const ids = recs.flatMap((r) => (r.jobId ? [r.jobId] : []));
      // Jobs that already ended are no error: they will read as what they ended as.
      if (ids.length > 0)
        await run(
          "scancel",
          cancelScript(settings, ids),
          /already completing or completed|Invalid job id/i,
        );
    },

    async release(handles: readonly string[]): Promise<void> {
      let recs = handles
        .map((h) => records.get(h))
        .filter((r): r is PilotRecord => !!r && !r.final && !r.removed);
      const ids = recs.flatMap((r) => (r.jobId ? [r.jobId] : []));
      if (ids.length > 0)
        await run(
          "scontrol release",
          releaseScript(settings, ids),
          /not held|Job is no longer pending|already/i,
        );
      const unsent = recs.filter((r) => !r.jobId);
      if (unsent.length === 0) return;
      // Never submit twice: a job that exists after all is adopted instead.
      recs = adopt(
        unsent.map((r) => ({ ...r, refused: undefined })),
        await lookup.list(),
      );
      const again: PilotRecord[] = [];
      for (const r of recs.filter((x) => !x.jobId && x.staging)) {
        try {
          filesOf(r, r.staging!);
          again.push(records.update(r.handle, { refused: undefined, unconfirmed: undefined })!);
        } catch (err) {
          records.update(r.handle, {
            refused: { reason: `cannot resubmit: ${(err as Error).message}`, recoverable: false },
          });
        }
      }
      await sbatchAll(again);
    },

    async fetchOutput(handle: string): Promise<PilotOutput> {
      const r = records.get(handle);
      if (!r) return { stdout: "", stderr: "" };
      const a = await host.run(outputScript(r.dir, settings.max_output_bytes));
      if (a.code !== 0)
        throw new SlurmCommandError(
          `reading the output of ${handle} failed (${host.where}): ${a.stderr.trim()}`,
        );
      return parseOutput(a.stdout);
    },

    async recover(): Promise<RecoveredPilot[]> {
      const listing = await lookup.list();
      for (const [h, p] of listing.byHandle) {
        if (!isHandle(h) || records.get(h)) continue;
        // A job of ours with no record (the state dir was restored from an old copy).
        records.put({
          handle: h,
          intentId: p.intentId,
          submittedAt: ctx.now(),
          dir: p.array ? `${base}/${p.array.key}/${p.array.task}` : `${base}/${h}`,
          sbatch: [],
          jobId: p.job.jobId,
          ...(p.array ? { array: p.array } : {}),
        });
      }
      const all = records.all();
      const status = await statusOf(all.map((r) => r.handle));
      return all.map((r) => ({
        intentId: r.intentId,
        handle: r.handle,
        status: status.get(r.handle)!,
      }));
    },

    async purge(handles: readonly string[]): Promise<void> {
      const recs = handles.map((h) => records.get(h)).filter((r): r is PilotRecord => !!r);
      if (recs.length === 0) return;
      const arrayDirs = [...new Set(recs.filter((r) => r.array).map(arrayDirOf))];
      await run(
        "removing pilot folders",
        purgeScript(
          recs.map((r) => r.dir),
          arrayDirs,
        ),
      );
      for (const r of recs) records.remove(r.handle);
    },

    async close(): Promise<void> {
      await host.close();
    },
  };
}

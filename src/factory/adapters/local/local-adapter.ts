/**
 * The `local` grid adapter: pilots run as detached local processes, each in its own process
 * group with its output in files, so they outlive a factory restart. A slot limit makes extra
 * pilots wait Idle, like a small batch system; waiting pilots start when a slot is free, checked
 * on every call and every `schedule_interval_s` while the adapter is open. A pilot still running
 * at the end of its walltime gets SIGTERM, then SIGKILL `kill_grace_s` later, as a batch system
 * ends a job at its time limit.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  accessSync,
  constants,
  mkdirSync,
  openSync,
  closeSync,
  existsSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { cpus } from "node:os";
import { z } from "zod";
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
  FILES,
  killJobGroups,
  read,
  readPid,
  readSpec,
  readStatus,
  readWalltime,
  type StoredSpec,
  writeAtomic,
} from "./pilot-dir.js";

export const localSettingsSchema = z
  .object({
    /** Pilots running at once; the rest wait Idle. */
    slots: z.number().int().positive().default(Math.max(1, cpus().length)),
    /** Seconds between SIGTERM and SIGKILL when removing a running pilot. */
    kill_grace_s: z.number().nonnegative().default(10),
    /** How often waiting pilots are started when slots free up, between factory calls. */
    schedule_interval_s: z.number().positive().default(5),
    /** Largest output tail returned by fetchOutput, per stream. */
    max_output_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
  })
  .strict();

/**
 * Runs the command with its output in files, then records its exit status atomically. The pid
 * is written by the wrapper itself so it is there whether or not the factory survives the spawn.
 * SIGTERM to the group reaches the command; the wrapper itself outlives it to record the status
 * (a wrapper that died with it would linger as a zombie wherever init does not reap).
 */
const WRAPPER = [
  "echo $$ > pid.tmp && mv pid.tmp pid",
  "trap 'kill -TERM $c 2>/dev/null' TERM",
  '"$@" > stdout 2> stderr &',
  "c=$!",
  // wait returns early when the trap runs; wait again until the command itself has ended.
  "while :; do wait $c; rc=$?; kill -0 $c 2>/dev/null || break; done",
  "echo $rc > exit_code.tmp && mv exit_code.tmp exit_code",
].join("\n");

export function createLocalAdapter(raw: Record<string, unknown>, ctx: AdapterContext): GridAdapter {
  const settings = localSettingsSchema.parse(raw);
  const root = join(ctx.stateDir, "pilots");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  let seq = 0;
  const timers = new Set<NodeJS.Timeout>();

  const dirOf = (handle: string): string => join(root, handle);
  const handles = (): string[] => {
    try {
      return readdirSync(root).filter((n) => !n.endsWith(".tmp"));
    } catch {
      return [];
    }
  };

  function start(spec: StoredSpec): void {
    const dir = dirOf(spec.handle);
    try {
      accessSync(spec.command, constants.X_OK);
    } catch (err) {
      // A batch system would refuse or hold such a job; so do we.
      writeAtomic(
        join(dir, FILES.held),
        JSON.stringify({
          reason: `the pilot command is not executable: ${(err as Error).message}`,
          recoverable: false,
        }),
      );
      return;
    }
    let credential: string | undefined;
    try {
      credential = spec.credentialFile ? copyCredential(spec.credentialFile, dir) : undefined;
    } catch (err) {
      // A batch system holds a job whose input cannot be staged; so do we.
      writeAtomic(
        join(dir, FILES.held),
        JSON.stringify({
          reason: `cannot copy the pilot credential: ${(err as Error).message}`,
          recoverable: false,
        }),
      );
      return;
    }
    writeAtomic(join(dir, FILES.starting), String(ctx.now()));
    const out = openSync(join(dir, "wrapper.log"), "a");
    try {
      const child = spawn(
        "/bin/sh",
        ["-c", WRAPPER, "updraft-local-pilot", spec.command, ...spec.args],
        {
          cwd: dir,
          detached: true,
          stdio: ["ignore", out, out],
          env: pilotEnv(spec, dir, credential),
        },
      );
      child.on("error", (err) =>
        ctx.logger.warn({ err, handle: spec.handle }, "local pilot did not start"),
      );
      child.unref();
    } finally {
      closeSync(out);
    }
  }

  /** Start waiting pilots, oldest first, while slots are free. */
  function pump(): Map<string, PilotStatus> {
    const now = ctx.now();
    const all = new Map<string, PilotStatus>();
    const waiting: StoredSpec[] = [];
    let running = 0;
    for (const h of handles()) {
      const s = readStatus(dirOf(h), h, now);
      all.set(h, s);
      // A pilot that ended (killed, crashed) leaves no job behind: end what it listed.
      if (s.state === "Finished" || s.state === "Removed") killJobGroups(dirOf(h), "SIGKILL");
      if (s.state === "Running") {
        running++;
        enforceWalltime(h, now);
      }
      if (s.state === "Idle") {
        const spec = readSpec(dirOf(h));
        if (spec) waiting.push(spec);
      }
    }
    waiting.sort((a, b) => a.submittedAt - b.submittedAt || a.seq - b.seq);
    for (const spec of waiting) {
      if (running >= settings.slots) break;
      start(spec);
      const s = readStatus(dirOf(spec.handle), spec.handle, ctx.now());
      all.set(spec.handle, s);
      if (s.state === "Running") running++;
    }
    return all;
  }

  function kill(handle: string, signal: NodeJS.Signals): void {
    const pid = readPid(dirOf(handle));
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
    // SIGTERM lets the pilot stop its jobs itself; SIGKILL ends them with it.
    if (signal === "SIGKILL") killJobGroups(dirOf(handle), "SIGKILL");
  }

  /** Signal a running pilot that is past its walltime: SIGTERM first, SIGKILL after the grace. */
  function enforceWalltime(handle: string, now: number): void {
    const dir = dirOf(handle);
    if (existsSync(join(dir, FILES.removed))) return;
    const startedAt = Number(read(dir, FILES.starting));
    const walltimeS = readSpec(dir)?.resources.walltimeS;
    if (!Number.isFinite(startedAt) || walltimeS === undefined) return;
    if (now < startedAt + walltimeS * 1000) return;
    const last = readWalltime(dir);
    const signal = !last
      ? "SIGTERM"
      : now >= last.at + settings.kill_grace_s * 1000
        ? "SIGKILL"
        : undefined;
    if (!signal || last?.signal === "SIGKILL") return;
    // Recorded before the signal, so the status reads as a time-limit end whatever happens next.
    writeAtomic(join(dir, FILES.walltime), JSON.stringify({ at: now, signal }));
    ctx.logger.info({ handle, walltimeS, signal }, "local pilot ran past its walltime");
    kill(handle, signal);
  }

  // Like a batch system's scheduler: waiting pilots start when a slot frees, not only when the
  // factory next calls. Unref'd, so it never keeps a process alive.
  const scheduler = setInterval(() => {
    try {
      pump();
    } catch (err) {
      ctx.logger.warn({ err }, "local scheduler pass failed");
    }
  }, settings.schedule_interval_s * 1000);
  scheduler.unref();

  return {
    gridtype: "local",
    capabilities: { release: true, maxBatch: 1000, output: true },

    async submit(batch: readonly PilotSpec[]): Promise<SubmitResult[]> {
      const results: SubmitResult[] = batch.map((p) => {
        const handle = `${p.intentId}-${randomBytes(4).toString("hex")}`;
        try {
          const dir = dirOf(handle);
          mkdirSync(dir, { mode: 0o700 });
          const spec: StoredSpec = { ...p, handle, submittedAt: ctx.now(), seq: seq++ };
          writeAtomic(join(dir, FILES.spec), JSON.stringify(spec), 0o600);
          return { intentId: p.intentId, ok: true, handle };
        } catch (err) {
          return { intentId: p.intentId, ok: false, error: (err as Error).message };
        }
      });
      pump();
      return results;
    },

    async status(hs: readonly string[]): Promise<Map<string, PilotStatus>> {
      const all = pump();
      return new Map(hs.map((h) => [h, all.get(h) ?? { handle: h, state: "Unknown" as const }]));
    },

    async remove(hs: readonly string[]): Promise<void> {
      for (const h of hs) {
        const dir = dirOf(h);
        if (!readSpec(dir)) continue;
        // Mark first: whatever happens next, the pilot will never be (re)started.
        writeAtomic(join(dir, FILES.removed), String(ctx.now()));
        kill(h, "SIGTERM");
        if (settings.kill_grace_s > 0) {
          const t = setTimeout(() => {
            timers.delete(t);
            kill(h, "SIGKILL");
          }, settings.kill_grace_s * 1000);
          t.unref();
          timers.add(t);
        } else {
          kill(h, "SIGKILL");
        }
      }
      pump();
    },

    async release(hs: readonly string[]): Promise<void> {
      for (const h of hs) {
        const dir = dirOf(h);
        for (const f of [FILES.held, FILES.pid, FILES.exitCode, FILES.starting, FILES.walltime]) {
          rmSync(join(dir, f), { force: true });
        }
      }
      pump();
    },

    async fetchOutput(handle: string): Promise<PilotOutput> {
      const dir = dirOf(handle);
      return {
        stdout: await tail(join(dir, FILES.stdout), settings.max_output_bytes),
        stderr: await tail(join(dir, FILES.stderr), settings.max_output_bytes),
      };
    },

    async recover(): Promise<RecoveredPilot[]> {
      const all = pump();
      const out: RecoveredPilot[] = [];
      for (const [h, status] of all) {
        const spec = readSpec(dirOf(h));
        if (spec) out.push({ intentId: spec.intentId, handle: h, status });
      }
      return out;
    },

    async purge(hs: readonly string[]): Promise<void> {
      for (const h of hs) rmSync(dirOf(h), { recursive: true, force: true });
    },

    async close(): Promise<void> {
      // Pilots keep running; only pending SIGKILLs are dropped (the next remove resends them).
      clearInterval(scheduler);
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

/**
 * Each pilot gets its own 0600 copy of the credential, as a batch system stages one per job: the
 * pilot removes its copy once read, and the factory's own file stays out of the pilot's hands.
 */
function copyCredential(from: string, dir: string): string {
  const to = join(dir, FILES.credential);
  copyFileSync(from, to);
  chmodSync(to, 0o600);
  return to;
}

function pilotEnv(spec: StoredSpec, dir: string, credential?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    TMPDIR: dir,
    UPDRAFT_PILOT_ID: String(spec.intentId),
    UPDRAFT_PILOT_WALLTIME_S: String(spec.resources.walltimeS),
    // The pilot lists its jobs' process groups here, so removing the pilot ends them too.
    UPDRAFT_JOB_GROUPS_FILE: join(dir, FILES.jobGroups),
    ...spec.env,
  };
  if (credential) {
    env.UPDRAFT_PILOT_CREDENTIAL = credential;
    env.X509_USER_PROXY = credential;
  }
  return env;
}

async function tail(file: string, max: number): Promise<string> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return "";
  }
  const fh = await open(file, "r");
  try {
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

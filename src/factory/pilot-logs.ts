/**
 * Finished pilots' logs, kept as glideinWMS keeps glidein logs: under
 * `<work_dir>/pilot-logs/<entry>/<client>/<pilot id>/` the pilot's `stdout`, `stderr` and
 * `outcome.json` (exit code, failure class, last lines), directories 0700 and files 0600, since
 * a pilot's output may name users and paths. Each file keeps at most `max_file_bytes` (the tail:
 * where a failure shows); the whole folder is pruned by age and then by total size, oldest first.
 *
 * The client name comes from a frontend's ad, so it is made a safe single path component.
 */
import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { wholeSeconds } from "../common/config-blocks.js";

export const pilotLogsSchema = z
  .object({
    /** Logs older than this are deleted (glideinWMS's log_retention max_days). */
    max_age_s: wholeSeconds.default(30 * 86_400),
    /** The whole folder is kept under this many bytes, oldest pilots deleted first. */
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 3),
    /** Each stdout or stderr keeps at most this many bytes: its end. */
    max_file_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 2),
  })
  .strict();
export type PilotLogsConfig = z.output<typeof pilotLogsSchema>;
export const PILOT_LOGS_DEFAULTS: PilotLogsConfig = pilotLogsSchema.parse({});

/** What is kept beside the output: enough to list and filter without reading it. */
export interface PilotLogOutcome {
  pilotId: number;
  entry: string;
  client: string;
  finishedAt: number;
  exitCode: number | null;
  failed: boolean;
  failureClass?: string;
  exitReason?: string;
  /** The last lines of stderr (of stdout when stderr is empty), for failure listings. */
  lastLines: string[];
}

export interface PilotLog extends PilotLogOutcome {
  dir: string;
  stdout: string;
  stderr: string;
}

const LAST_LINES = 20;

/** A client name as one safe path component: plain characters kept, others replaced, hashed. */
export function clientDirName(client: string): string {
  const plain = client.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 80);
  if (plain === client && !/^\.+$/.test(client) && client !== "") return client;
  const hash = createHash("sha256").update(client).digest("hex").slice(0, 12);
  return `${plain.replace(/^\.+/, "_")}~${hash}`;
}

/** The end of `text`, at most `max` bytes, marked when cut. */
export function tailBytes(text: string, max: number): string {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return text;
  const cut = buf.length - max;
  return `[updraft: first ${cut} bytes not kept]\n${buf.subarray(cut).toString("utf8")}`;
}

export function lastLines(text: string, n = LAST_LINES): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-n);
}

const PRUNE_EVERY_MS = 10 * 60_000;

export class PilotLogStore {
  private lastPrune = -Infinity;

  constructor(
    readonly root: string,
    private readonly cfg: PilotLogsConfig = PILOT_LOGS_DEFAULTS,
  ) {}

  keep(o: PilotLogOutcome, out: { stdout: string; stderr: string }): string {
    const dir = join(this.root, o.entry, clientDirName(o.client), String(o.pilotId));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = (name: string, text: string) =>
      writeFileSync(join(dir, name), text, { mode: 0o600 });
    file("stdout", tailBytes(out.stdout, this.cfg.max_file_bytes));
    file("stderr", tailBytes(out.stderr, this.cfg.max_file_bytes));
    file("outcome.json", `${JSON.stringify(o)}\n`);
    return dir;
  }

  /** prune(), at most every ten minutes: it reads every kept pilot's folder. */
  maybePrune(now: number): { removed: number; bytes: number } | undefined {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return undefined;
    this.lastPrune = now;
    return this.prune(now);
  }

  /** Delete logs past max_age_s, then the oldest until the folder holds max_bytes at most. */
  prune(now: number): { removed: number; bytes: number } {
    const all = this.list();
    let removed = 0;
    let total = all.reduce((a, l) => a + l.bytes, 0);
    // Oldest first.
    all.sort((a, b) => a.outcome.finishedAt - b.outcome.finishedAt);
    for (const l of all) {
      const tooOld = now - l.outcome.finishedAt > this.cfg.max_age_s * 1000;
      if (!tooOld && total <= this.cfg.max_bytes) break;
      rmSync(l.dir, { recursive: true, force: true });
      total -= l.bytes;
      removed++;
    }
    return { removed, bytes: total };
  }

  /** Logs of one entry (all when undefined), newest first; with `failed`, failed pilots only. */
  read(opts: { entry?: string; failed?: boolean; last?: number }): PilotLog[] {
    const picked = this.list(opts.entry)
      .filter((l) => !opts.failed || l.outcome.failed)
      .sort((a, b) => b.outcome.finishedAt - a.outcome.finishedAt || b.pilotId - a.pilotId)
      .slice(0, opts.last ?? Infinity);
    return picked.map((l) => ({
      ...l.outcome,
      dir: l.dir,
      stdout: readOr(join(l.dir, "stdout")),
      stderr: readOr(join(l.dir, "stderr")),
    }));
  }

  private list(entry?: string) {
    const out: { dir: string; pilotId: number; outcome: PilotLogOutcome; bytes: number }[] = [];
    for (const e of entry === undefined ? subdirs(this.root) : [entry]) {
      if (!/^[A-Za-z0-9_.-]+$/.test(e)) continue;
      for (const c of subdirs(join(this.root, e))) {
        for (const p of subdirs(join(this.root, e, c))) {
          const dir = join(this.root, e, c, p);
          const outcome = readOutcome(dir);
          if (!outcome) continue;
          out.push({ dir, pilotId: outcome.pilotId, outcome, bytes: dirBytes(dir) });
        }
      }
    }
    return out;
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

function readOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function readOutcome(dir: string): PilotLogOutcome | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, "outcome.json"), "utf8")) as PilotLogOutcome;
    return typeof v.pilotId === "number" && typeof v.finishedAt === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of ["stdout", "stderr", "outcome.json"]) {
    let st: Stats | undefined;
    try {
      st = statSync(join(dir, f));
    } catch {
      continue;
    }
    n += st.size;
  }
  return n;
}

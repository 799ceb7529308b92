/**
 * Which files of a finished job's sandbox go back to the schedd, as HTCondor's starter chooses
 * them: the names in `TransferOutput`, or, when the job lists none, every regular file in the
 * top-level sandbox the job created or changed; plus `Out` and `Err`. A listed output the job did
 * not make, a name that leaves the sandbox, or a symbolic link anywhere on the way holds the job
 * with `HoldReasonCode` 12 (transfer output error) and a reason naming the file. Symbolic links
 * are never followed: each path component is checked with lstat and the file is opened with
 * O_NOFOLLOW, so a job cannot make the pilot upload a file outside its sandbox.
 */
import { constants, lstatSync, openSync, fstatSync, readdirSync, closeSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { ClassAd } from "../classad/index.js";
import { JOB } from "../ads/names.js";
import { proxyFileName, tokenFileName } from "../schedd/input-files.js";
import { unsafeName } from "../schedd/sandbox.js";

/** HTCondor's hold code for a failed output transfer. */
export const TRANSFER_OUTPUT_HOLD = 12;
/** errno values used as hold subcodes, as HTCondor records them. */
const ENOENT = 2;
const ELOOP = 40;
const EINVAL = 22;

/** A top-level file as it was before the job ran: size and modification time. */
export type SandboxSnapshot = ReadonlyMap<string, { size: number; mtimeMs: number }>;

export interface OutputHold {
  reason: string;
  code: number;
  subcode: number;
}

export type OutputChoice =
  { ok: true; names: string[] } | { ok: false; hold: OutputHold; names: string[] };

/** Regular top-level files of a sandbox (symbolic links and directories left out). */
export function snapshotSandbox(dir: string): SandboxSnapshot {
  const seen = new Map<string, { size: number; mtimeMs: number }>();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return seen;
  }
  for (const name of entries) {
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (st?.isFile()) seen.set(name, { size: st.size, mtimeMs: st.mtimeMs });
  }
  return seen;
}

/** Out and Err when they name files in the sandbox (not /dev/null, not absolute). */
function streamNames(ad: ClassAd): string[] {
  const names: string[] = [];
  for (const a of [JOB.Out, JOB.Err]) {
    const v = ad.getString(a);
    if (v && !isAbsolute(v)) names.push(v);
  }
  return names;
}

/** The names the job's ad lists in TransferOutput, or undefined when it lists none. */
export function listedOutputs(ad: ClassAd): string[] | undefined {
  const text = ad.getString(JOB.TransferOutput);
  if (text === undefined) return undefined;
  const names = text
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  return names.length > 0 ? names : undefined;
}

/** Why `rel` cannot be read inside `dir` without following a link, or undefined if it can. */
export function unsafeOutputPath(
  dir: string,
  rel: string,
): { why: string; subcode: number } | undefined {
  const bad = unsafeName(rel);
  if (bad) return { why: `the name is refused (${bad})`, subcode: EINVAL };
  const parts = rel.split("/");
  let path = dir;
  for (let i = 0; i < parts.length; i++) {
    path = join(path, parts[i]!);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return { why: "(errno 2) No such file or directory", subcode: ENOENT };
    if (st.isSymbolicLink()) {
      return { why: "it is a symbolic link, which is never followed", subcode: ELOOP };
    }
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) {
      return { why: `'${parts.slice(0, i + 1).join("/")}' is not a directory`, subcode: EINVAL };
    }
    if (last && !st.isFile() && !st.isDirectory()) {
      return { why: "it is not a regular file", subcode: EINVAL };
    }
  }
  return undefined;
}

/** Regular files under a listed directory, as relative names; links inside are left out. */
function filesUnder(dir: string, rel: string, out: string[], budget: { left: number }): void {
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    if (--budget.left < 0) return;
    const name = `${rel}/${e.name}`;
    if (e.isDirectory()) filesUnder(dir, name, out, budget);
    else if (e.isFile()) out.push(name);
  }
}

/**
 * The files to upload, relative to the sandbox. `before` is the sandbox as it was when the job
 * started; with no TransferOutput, files that match it in size and time are inputs, not outputs.
 */
export function chooseOutputs(ad: ClassAd, dir: string, before: SandboxSnapshot): OutputChoice {
  const streams = streamNames(ad);
  const listed = listedOutputs(ad);
  const names = new Set<string>();
  let hold: OutputHold | undefined;
  const refuse = (name: string, why: string, subcode: number) => {
    hold ??= {
      reason:
        `Error from the pilot: failed to send file(s) to the schedd: ` +
        `error reading from ${join(dir, name)}: ${why}`,
      code: TRANSFER_OUTPUT_HOLD,
      subcode,
    };
  };
  const budget = { left: 100_000 };
  for (const name of [...streams, ...(listed ?? [])]) {
    const bad = unsafeOutputPath(dir, name);
    if (bad) {
      refuse(name, bad.why, bad.subcode);
      continue;
    }
    if (lstatSync(join(dir, name)).isDirectory()) {
      const files: string[] = [];
      filesUnder(dir, name, files, budget);
      for (const f of files) names.add(f);
    } else names.add(name);
  }
  if (listed === undefined) {
    // The job's proxy and token never travel back, even when the job renewed them (HTCondor
    // does not return the proxy either): they are credentials, not results.
    const credentials = new Set([proxyFileName(ad), tokenFileName(ad)]);
    for (const [name, now] of snapshotSandbox(dir)) {
      // The streams of a job with no `output`/`error` are discarded, as HTCondor's are.
      if (name === "_condor_stdout" || name === "_condor_stderr") continue;
      if (credentials.has(name)) continue;
      const was = before.get(name);
      if (was && was.size === now.size && was.mtimeMs === now.mtimeMs) continue;
      names.add(name);
    }
  }
  const sorted = [...names].sort();
  return hold ? { ok: false, hold, names: sorted } : { ok: true, names: sorted };
}

/** Open `rel` in `dir` for reading without following a final symbolic link; a regular file. */
export function openOutput(dir: string, rel: string): { fd: number; size: number } {
  const fd = openSync(join(dir, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new Error(`output '${rel}' is not a regular file`);
  }
  return { fd, size: st.size };
}

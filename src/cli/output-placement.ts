/**
 * Where `updraft transfer-output` puts a job's output files, pure: only names the job declared
 * (its `Out`, `Err`, the `TransferOutput` list, or, with no list, files at the top of its
 * sandbox), renamed by `TransferOutputRemaps`, inside the job's directory unless a remap names an
 * absolute path. A name from the schedd that is anything else is refused.
 */
import { isAbsolute, resolve, sep } from "node:path";
import { unsafeName } from "../schedd/sandbox.js";

export interface OutputDeclaration {
  out?: string;
  err?: string;
  /** TransferOutput's names; undefined when the job listed none. */
  listed?: string[];
  /** TransferOutputRemaps: output name to target. */
  remaps: ReadonlyMap<string, string>;
}

/** `"a = b;c = d/e"` as HTCondor's TransferOutputRemaps; malformed pairs are skipped. */
export function parseRemaps(text: string | undefined): Map<string, string> {
  const remaps = new Map<string, string>();
  for (const part of (text ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const from = part.slice(0, eq).trim();
    const to = part.slice(eq + 1).trim();
    if (from !== "" && to !== "") remaps.set(from, to);
  }
  return remaps;
}

export function declarationOf(ad: Record<string, string | undefined>): OutputDeclaration {
  const s = (v: string | undefined) => (v?.startsWith('"') ? (JSON.parse(v) as string) : "");
  const listed = s(ad.TransferOutput)
    .split(",")
    .map((n) => n.trim().replace(/\/+$/, ""))
    .filter((n) => n !== "");
  return {
    out: s(ad.Out) || undefined,
    err: s(ad.Err) || undefined,
    listed: listed.length > 0 ? listed : undefined,
    remaps: parseRemaps(s(ad.TransferOutputRemaps)),
  };
}

/** Whether a file name sent by the schedd is one the job declared as output. */
export function isDeclared(name: string, d: OutputDeclaration): boolean {
  if (unsafeName(name)) return false;
  if (name === d.out || name === d.err) return true;
  if (d.listed === undefined) return !name.includes("/");
  // A listed directory brings the files under it.
  return d.listed.some((l) => name === l || name.startsWith(`${l}/`));
}

export type Placement = { ok: true; path: string } | { ok: false; why: string };

/** The local path for a declared output: its remap, else the same name under `dir`. */
export function placeOutput(name: string, dir: string, d: OutputDeclaration): Placement {
  if (!isDeclared(name, d)) return { ok: false, why: "the job did not declare it as an output" };
  const root = resolve(dir);
  const target = d.remaps.get(name) ?? name;
  if (target.split("/").includes(".."))
    return { ok: false, why: `its remap '${target}' uses '..'` };
  if (isAbsolute(target)) return { ok: true, path: resolve(target) };
  const path = resolve(root, target);
  if (!path.startsWith(root + sep)) return { ok: false, why: "it would land outside " + root };
  return { ok: true, path };
}

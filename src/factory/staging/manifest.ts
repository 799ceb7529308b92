/**
 * The staging manifest in the pilot bootstrap's format (`updraft-pilot-manifest 1`, one
 * `file <sha256> <path>` line per file, optional `install`, `entry`, `validate` and `runtime`
 * lines). Its own SHA-256
 * goes on the pilot's command line, so the pilot can check the manifest, and through it every file.
 */
import { createHash } from "node:crypto";

export interface ManifestFile {
  path: string;
  sha256: string;
}

export interface Manifest {
  files: readonly ManifestFile[];
  /** The Updraft CLI script among the files, run by the bootstrap with Node. */
  entry?: string;
  /** A listed archive holding a whole Updraft install, and the CLI script inside it. */
  install?: { archive: string; entry: string };
  validate?: readonly { kind: "site" | "vo"; path: string }[];
  /** Node.js runtimes, one per machine; fetched by a pilot only when its node has no usable Node. */
  runtimes?: readonly ManifestRuntime[];
}

export interface ManifestRuntime {
  /** As `uname -m` prints it. */
  machine: string;
  sha256: string;
  path: string;
  /** The Node.js version inside, checked by the bootstrap once unpacked. */
  version: string;
}

/** What the bootstrap accepts in a path: relative, no `..`, a small character set. */
export function isSafePath(p: string): boolean {
  return (
    /^[A-Za-z0-9._/@+-]+$/.test(p) &&
    !p.startsWith("/") &&
    p.split("/").every((part) => part !== "" && part !== "." && part !== "..")
  );
}

export function formatManifest(m: Manifest): string {
  const lines = ["updraft-pilot-manifest 1"];
  for (const f of [...m.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    lines.push(`file ${f.sha256} ${f.path}`);
  }
  if (m.install) lines.push(`install ${m.install.archive} ${m.install.entry}`);
  if (m.entry) lines.push(`entry ${m.entry}`);
  for (const v of m.validate ?? []) lines.push(`validate ${v.kind} ${v.path}`);
  for (const r of [...(m.runtimes ?? [])].sort((a, b) => (a.machine < b.machine ? -1 : 1))) {
    lines.push(`runtime ${r.machine} ${r.sha256} ${r.path} ${r.version}`);
  }
  return lines.join("\n") + "\n";
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

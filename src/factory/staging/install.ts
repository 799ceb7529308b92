/**
 * "An Updraft install" for a pilot, defined once: the files of this build that
 * `node bin/updraft.js pilot run` loads, and the archive the staging area ships them in.
 *
 * The set is the module graph of the pilot command, traced from the compiled JavaScript: the CLI
 * entry (`bin/updraft.js`, `dist/src/cli/main.js` without its lazily loaded other commands), the
 * pilot command and everything it imports, statically or dynamically (the collector and schedd
 * clients are loaded only once the pilot connects). Each npm package the graph names is shipped
 * whole (less type declarations, source maps and docs) with its own dependencies, since a
 * package's internal loading is its own business. Files read at run time rather than imported:
 * `package.json` (the package root marker) and `src/wire/updraft.proto` (the wire schema).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, posix, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { UpdraftError } from "../../common/errors.js";
import { tarChunks, type TarEntry } from "./ustar.js";

export const INSTALL_ARCHIVE = "updraft-install.tar.gz";
/** The CLI script inside the install, run by the bootstrap with Node. */
export const INSTALL_ENTRY = "bin/updraft.js";

const ROOTS = [INSTALL_ENTRY, "dist/src/cli/pilot-command.js"];
/** Read at run time, not imported. */
const DATA_FILES = ["package.json", "src/wire/updraft.proto"];
/** Its dynamic imports are the other commands, which the pilot never loads. */
const CLI_MAIN = "dist/src/cli/main.js";

export interface InstallFile {
  /** Path inside the install, `/`-separated. */
  path: string;
  /** Where it is in this build. */
  abs: string;
  mode: number;
}

const STATIC_RE = /(?:^|[\s;}])(?:import|export)\s*(?:[\w*{}\s,$]+\s*from\s*)?["']([^"']+)["']/g;
const DYNAMIC_RE = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The module specifiers one compiled ES module names (static, then dynamic when asked). */
export function specifiersOf(source: string, dynamic: boolean): string[] {
  const out = [...source.matchAll(STATIC_RE)].map((m) => m[1]!);
  if (dynamic) out.push(...[...source.matchAll(DYNAMIC_RE)].map((m) => m[1]!));
  return out;
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Node's lookup of a package from a directory: `node_modules/<name>` here or in any parent. */
function resolvePackage(root: string, fromDir: string, name: string): string | undefined {
  for (let d = fromDir; ; d = dirname(d)) {
    const candidate = join(d, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (d === root || dirname(d) === d) return undefined;
  }
}

/** A package's files a pilot may load: all but TypeScript sources and declarations, maps, docs. */
function shippedFromPackage(name: string): boolean {
  return !/\.[cm]?ts$|\.map$|\.tsbuildinfo$|\.md$|\.markdown$/i.test(name);
}

function walkFiles(dir: string, keep: (name: string) => boolean, out: Set<string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") walkFiles(p, keep, out);
    } else if (e.isFile() && keep(e.name)) out.add(p);
  }
}

/** A build that cannot make the pilot's install: a module or package it needs is missing. */
export class PilotInstallError extends UpdraftError {
  readonly code = "pilot-install";
  override name = "PilotInstallError";
}

/**
 * The files of the pilot's install from the build at `root` (a checkout with `dist/` and
 * `node_modules/`), sorted by path. Throws naming the module when the build is incomplete.
 */
export function pilotInstallFiles(root: string): InstallFile[] {
  const files = new Set<string>();
  const packages = new Set<string>();
  const need = (abs: string, what: string) => {
    if (!existsSync(abs))
      throw new PilotInstallError(`pilot install: ${what} (${abs}) is missing; build first`);
  };

  const pending = ROOTS.map((r) => join(root, r));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    need(file, relative(root, file));
    files.add(file);
    const rel = relative(root, file).split(sep).join("/");
    for (const spec of specifiersOf(readFileSync(file, "utf8"), rel !== CLI_MAIN)) {
      if (spec.startsWith(".")) pending.push(join(dirname(file), spec));
      else if (!isBuiltin(spec)) {
        const dir = resolvePackage(root, dirname(file), packageName(spec));
        if (!dir)
          throw new PilotInstallError(
            `pilot install: package '${spec}' imported by ${rel} not found`,
          );
        packages.add(dir);
      }
    }
  }

  // Each package with its runtime dependencies, found from where it lives.
  const queue = [...packages];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      name?: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const required = Object.keys(meta.dependencies ?? {});
    const optional = [
      ...Object.keys(meta.optionalDependencies ?? {}),
      ...Object.keys(meta.peerDependencies ?? {}),
    ];
    for (const [names, mustExist] of [
      [required, true],
      [optional, false],
    ] as const) {
      for (const name of names) {
        const dep = resolvePackage(root, dir, name);
        if (!dep) {
          if (mustExist) {
            throw new PilotInstallError(
              `pilot install: '${name}', a dependency of ${meta.name}, not found`,
            );
          }
          continue;
        }
        if (!packages.has(dep)) {
          packages.add(dep);
          queue.push(dep);
        }
      }
    }
  }
  // A nested node_modules holds other packages, each shipped only if chosen on its own.
  for (const dir of packages) walkFiles(dir, shippedFromPackage, files);
  for (const d of DATA_FILES) {
    need(join(root, d), d);
    files.add(join(root, d));
  }

  return [...files]
    .map((abs) => ({
      path: relative(root, abs).split(sep).join(posix.sep),
      abs,
      mode: statSync(abs).mode & 0o111 ? 0o755 : 0o644,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Tar entries for the files, each directory once before what it holds. */
export function installEntries(files: readonly InstallFile[]): TarEntry[] {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ path: d, mode: 0o755 });
      }
    }
    entries.push({ path: f.path, mode: f.mode, data: readFileSync(f.abs) });
  }
  return entries;
}

export interface WrittenInstall {
  file: string;
  sha256: string;
  bytes: number;
  files: number;
}

/** Write `updraft-install.tar.gz` for the build at `root` into `outDir`. */
export function writeInstallArchive(root: string, outDir: string): WrittenInstall {
  const files = pilotInstallFiles(root);
  const gz = gzipSync(Buffer.concat(tarChunks(installEntries(files))));
  const file = join(outDir, INSTALL_ARCHIVE);
  writeFileSync(file, gz, { mode: 0o644 });
  return {
    file,
    sha256: createHash("sha256").update(gz).digest("hex"),
    bytes: gz.length,
    files: files.length,
  };
}

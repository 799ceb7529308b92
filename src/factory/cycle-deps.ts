/** What a cycle works with, and small helpers its steps share. */
import type { EntryBackoff } from "./entry-backoff.js";
import type { ValidationBackoff } from "./validation-backoff.js";
import type { CollectorClient } from "../collector/client.js";
import type { Logger } from "../common/logger.js";
import type { GridAdapter } from "./adapters/types.js";
import type { EntryConfig, FactoryConfig } from "./config.js";
import type { GlideClientReader } from "./client-requests.js";
import type { CredentialCache } from "./credentials.js";
import type { PilotCoreTime } from "./pilot-core-time.js";
import type { PilotLogStore } from "./pilot-logs.js";
import type { RecentFailures } from "./recent-failures.js";
import type { FactoryStore } from "./store.js";

export interface CycleDeps {
  config: FactoryConfig;
  store: FactoryStore;
  /** By entry name. */
  adapters: ReadonlyMap<string, GridAdapter>;
  collector: CollectorClient;
  logger: Logger;
  now: () => number;
  keys: { privatePem: string; publicPem: string; id: string };
  credentialDir: string;
  /** Extra pilot arguments, e.g. the staging URL and manifest hash. */
  pilotArgs?: (entry: string) => string[];
  /** Decrypted credentials, kept across cycles (see CredentialCache). */
  credentialCache?: CredentialCache;
  /** GlideClient ads read in earlier cycles, reused while unchanged (see GlideClientReader). */
  requests?: GlideClientReader;
  /**
   * Each client's idle lifetime at each entry (ms), from its last accepted request: pilots
   * queued idle longer are removed like stale ones. Kept across cycles, since housekeeping runs
   * before this cycle's requests are read.
   */
  idleLifetimes?: Map<string, number>;
  /** Where finished pilots' output is kept (see pilot-logs.ts); not kept when absent. */
  pilotLogs?: PilotLogStore;
  /** Entries whose CE refused every submission lately, by entry name (see entry-backoff.ts). */
  backoff?: Map<string, EntryBackoff>;
  /** Entries whose pilots keep failing validation, by entry name (see validation-backoff.ts). */
  validationBackoff?: Map<string, ValidationBackoff>;
  /** Running pilots' core-seconds, accrued each cycle (see pilot-core-time.ts). */
  coreTime?: PilotCoreTime;
  /** The last failed pilots of each entry, for its GlideFactory ad (see recent-failures.ts). */
  recentFailures?: RecentFailures;
}

export const entryClientKey = (entry: string, client: string) => `${entry}\u0000${client}`;

export async function guarded<T>(
  log: Logger,
  entry: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    log.error({ err, entry }, "adapter call failed");
    return undefined;
  }
}

const entryIndex = new WeakMap<FactoryConfig, Map<string, EntryConfig>>();

export function entryConfig(d: CycleDeps, name: string): EntryConfig | undefined {
  let m = entryIndex.get(d.config);
  if (!m) entryIndex.set(d.config, (m = new Map(d.config.entries.map((e) => [e.name, e]))));
  return m.get(name);
}

export function groupByEntry<T extends { entry: string }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const p of rows) {
    let list = m.get(p.entry);
    if (!list) m.set(p.entry, (list = []));
    list.push(p);
  }
  return m;
}

/**
 * The collector's configuration: one zod schema that validates the YAML file and gives the
 * TypeScript type. Unknown keys are refused so a misspelt option fails at start, not silently.
 */
import { z } from "zod";
import { loadConfigFile } from "../common/config.js";
import { tokensConfigSchema } from "../common/tokens-config.js";
import {
  AUTHORIZATION_RENAMES,
  authorizationBlock,
  duration,
  logLevelKey,
  tlsBlock,
  wholeSeconds as seconds,
  connectionsBlock,
} from "../common/config-blocks.js";
import type { KeyRename } from "../common/config-renames.js";
import { ROLES, type Role } from "../security/authz.js";
import { AD_TYPE } from "../ads/names.js";

const role = z.enum(ROLES);
const typeName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an ad type is a plain name");

/** Roles needed to write each ad type unless the configuration says otherwise. */
export const DEFAULT_WRITE_ROLES: Readonly<Record<string, readonly Role[]>> = Object.freeze({
  GlideFactory: ["factory"],
  GlideFactoryClient: ["factory"],
  GlideClient: ["frontend"],
  GlideResource: ["frontend"],
  Slot: ["pilot"],
  Scheduler: ["daemon"],
  // Renewed pilot tokens, sealed to each pilot's key by the frontend that issued them.
  PilotCredential: ["frontend"],
  // Only the collector itself (and admins) write Collector ads.
  Collector: [],
});

/**
 * A pilot's renewed token is advertised under the pilot's name by the frontend that made the
 * pilot, and the pilot reads only that frontend's ad: another frontend writing the name first
 * must not keep it out.
 */
export const DEFAULT_PER_WRITER_TYPES: readonly string[] = Object.freeze([AD_TYPE.PilotCredential]);

export const collectorConfigSchema = z
  .object({
    /** The name in the collector's own `Collector` ad; defaults to collector@<hostname>. */
    name: z.string().min(1).optional(),
    listen: z
      .object({
        host: z.string().min(1).default("0.0.0.0"),
        port: z.number().int().min(0).max(65535).default(9618),
      })
      .strict()
      .default({ host: "0.0.0.0", port: 9618 }),
    tls: tlsBlock({ allow_limited_proxies: z.boolean().default(false) }),
    authorization: authorizationBlock.default({ rules: [] }),
    /** Bearer tokens accepted beside certificates; none without this block. */
    tokens: tokensConfigSchema.optional(),
    /** Roles allowed to write each type; types not listed need `default_write_roles`. */
    write_roles: z.record(typeName, z.array(role)).default({}),
    default_write_roles: z.array(role).default(["daemon"]),
    /**
     * Types whose ads are kept per writer: two identities may each hold an ad of one Name, which
     * readers tell apart by AuthenticatedIdentity, so none can take a name before its owner.
     */
    per_writer_types: z.array(typeName).default([...DEFAULT_PER_WRITER_TYPES]),
    /** Slot ads only from pilot credentials with a binding (per-pilot tokens or proxies). */
    require_pilot_binding: z.boolean().default(false),
    lifetime: z
      .object({
        default_s: seconds.default(900),
        /** Seconds per type, overriding `default_s`; an ad's own ClassAdLifetime wins over both. */
        per_type: z.record(typeName, seconds).default({}),
        /** Upper bound on an ad's own ClassAdLifetime. */
        max_s: seconds.default(86_400),
      })
      .strict()
      .default({ default_s: 900, per_type: {}, max_s: 86_400 }),
    limits: z
      .object({
        max_ad_bytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024),
        max_attributes: z.number().int().positive().default(1000),
        max_ads_per_identity: z.number().int().positive().default(200_000),
        max_watchers: z.number().int().positive().default(1000),
        /** ClassAd evaluation steps one query's constraint may take over all the ads it tests. */
        query_step_budget: z.number().int().positive().default(20_000_000),
        /** Steps a watch's constraint may take on one ad. */
        watch_step_budget: z.number().int().positive().default(1_000_000),
        /** Longest stretch of one query's evaluation before other clients get a turn. */
        query_slice_s: duration(z.number().positive().max(1)).default(0.02),
      })
      .strict()
      .default({
        max_ad_bytes: 64 * 1024,
        max_attributes: 1000,
        max_ads_per_identity: 200_000,
        max_watchers: 1000,
        query_step_budget: 20_000_000,
        watch_step_budget: 1_000_000,
        query_slice_s: 0.02,
      }),
    /** Connection limits of the listener (shared block). */
    connections: connectionsBlock,
    /** How often the collector's own ad is refreshed. */
    self_ad_interval_s: seconds.default(60),
    snapshot: z
      .object({
        path: z.string().min(1),
        period_s: seconds.default(300),
      })
      .strict()
      .optional(),
    /**
     * The pool's history for the page at /pool: the pool is sampled from the ads held and kept
     * in SQLite as buckets of a minute (a day), an hour (a month) and a day (a year). Off when
     * absent (the page then shows the live pool only).
     */
    history: z
      .object({
        path: z.string().min(1),
        /** Sampling period; at most the finest bucket, a minute. */
        sample_s: duration(z.number().int().min(5).max(60)).default(60),
        /** Series kept (an entry's pilots by state are three); the rest fold into `_other`. */
        max_series: z.number().int().positive().max(100_000).default(2_000),
      })
      .strict()
      .optional(),
    log_level: logLevelKey,
  })
  .strict();

/** Spellings of the previous release, accepted with a warning. */
export const COLLECTOR_RENAMES: readonly KeyRename[] = [
  ...AUTHORIZATION_RENAMES,
  { from: "lifetime.default", to: "lifetime.default_s" },
  { from: "lifetime.max", to: "lifetime.max_s" },
  { from: "self_ad_interval", to: "self_ad_interval_s" },
  { from: "snapshot.period", to: "snapshot.period_s" },
];

export type CollectorConfig = z.output<typeof collectorConfigSchema>;

/** Read and validate a config file; throws ConfigError listing every problem. */
export function loadCollectorConfig(file: string): CollectorConfig {
  return loadConfigFile(collectorConfigSchema, file, process.env, COLLECTOR_RENAMES);
}

/** Roles that may write `type` (case-insensitive), configuration over defaults. */
export function writeRolesResolver(
  cfg: Pick<CollectorConfig, "write_roles" | "default_write_roles">,
): (type: string) => readonly Role[] {
  const table = new Map<string, readonly Role[]>();
  for (const [t, roles] of Object.entries(DEFAULT_WRITE_ROLES)) table.set(t.toLowerCase(), roles);
  for (const [t, roles] of Object.entries(cfg.write_roles)) table.set(t.toLowerCase(), roles);
  return (type) => table.get(type.toLowerCase()) ?? cfg.default_write_roles;
}

/** Lifetime in seconds for an ad of `type` that does not carry its own ClassAdLifetime. */
export function lifetimeResolver(cfg: Pick<CollectorConfig, "lifetime">): (type: string) => number {
  const table = new Map<string, number>();
  for (const [t, s] of Object.entries(cfg.lifetime.per_type)) table.set(t.toLowerCase(), s);
  return (type) => table.get(type.toLowerCase()) ?? cfg.lifetime.default_s;
}

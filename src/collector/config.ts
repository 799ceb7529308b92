/**
 * The collector's configuration: one zod schema that validates the YAML file and gives the
 * TypeScript type. Unknown keys are refused so a misspelt option fails at start, not silently.
 */
import { z } from "zod";
import { loadConfigFile } from "../common/config.js";
import { tokensConfigSchema } from "../common/tokens-config.js";
import { ROLES, type Role, authzConfigSchema } from "../security/authz.js";

const role = z.enum(ROLES);
const seconds = z.number().int().positive();
const typeName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an ad type is a plain name");

/** Roles needed to write each ad type unless the configuration says otherwise. */
export const DEFAULT_WRITE_ROLES: Readonly<Record<string, readonly Role[]>> = Object.freeze({
  GlideFactory: ["factory"],
  GlideFactoryClient: ["factory"],
  GlideClient: ["frontend"],
  GlideResource: ["frontend"],
  Slot: ["pilot"],
  Scheduler: ["daemon"],
  // Only the collector itself (and admins) write Collector ads.
  Collector: [],
});

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
    tls: z
      .object({
        cert_file: z.string().min(1),
        key_file: z.string().min(1),
        trust_dir: z.string().min(1).default("/etc/grid-security/certificates"),
        allow_limited_proxies: z.boolean().default(false),
      })
      .strict(),
    authorization: authzConfigSchema.default({ rules: [] }),
    /** Bearer tokens accepted beside certificates; none without this block. */
    tokens: tokensConfigSchema.optional(),
    /** Roles allowed to write each type; types not listed need `default_write_roles`. */
    write_roles: z.record(typeName, z.array(role)).default({}),
    default_write_roles: z.array(role).default(["daemon"]),
    lifetime: z
      .object({
        default: seconds.default(900),
        /** Per type, overriding `default`; an ad's own ClassAdLifetime wins over both. */
        per_type: z.record(typeName, seconds).default({}),
        /** Upper bound on an ad's own ClassAdLifetime. */
        max: seconds.default(86_400),
      })
      .strict()
      .default({ default: 900, per_type: {}, max: 86_400 }),
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
        query_slice_s: z.number().positive().max(1).default(0.02),
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
    /** How often the collector's own ad is refreshed. */
    self_ad_interval: seconds.default(60),
    snapshot: z
      .object({
        path: z.string().min(1),
        period: seconds.default(300),
      })
      .strict()
      .optional(),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  })
  .strict();

export type CollectorConfig = z.output<typeof collectorConfigSchema>;

/** Read and validate a config file; throws ConfigError listing every problem. */
export function loadCollectorConfig(file: string): CollectorConfig {
  return loadConfigFile(collectorConfigSchema, file);
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
  return (type) => table.get(type.toLowerCase()) ?? cfg.lifetime.default;
}

/** The schedd's YAML configuration (config/schedd.yaml documents every key). */
import { z } from "zod";
import { tokensConfigSchema } from "../common/tokens-config.js";
import { loadConfigFile } from "../common/config.js";
import {
  AUTHORIZATION_RENAMES,
  authorizationBlock,
  collectorBlock,
  durationS,
  logLevelKey,
  tlsBlock,
  duration,
  connectionsBlock,
} from "../common/config-blocks.js";
import type { KeyRename } from "../common/config-renames.js";
import { JOB, SLOT } from "../ads/names.js";

export const DEFAULT_SIGNIFICANT_ATTRIBUTES = [
  JOB.RequestCpus,
  JOB.RequestMemory,
  JOB.RequestDisk,
  "RequestGpus",
  "DESIRED_Sites",
  "DESIRED_Entries",
  "REQUIRED_OS",
  JOB.X509UserProxyVOName,
];

export const scheddConfigSchema = z
  .object({
    name: z.string().min(1).default("schedd"),
    listen: z
      .object({ host: z.string().default("0.0.0.0"), port: z.number().int().min(0).max(65535) })
      .strict(),
    /** The URL users and pilots reach this schedd at (advertised); default from listen. */
    public_url: z.string().optional(),
    tls: tlsBlock(),
    state_dir: z.string(),
    durability: z.enum(["normal", "full"]).default("normal"),
    group_commit: z.boolean().default(true),
    /** How long a pilot's claim on a job lasts without a heartbeat. */
    lease_s: durationS.default(1200),
    lease_check_s: durationS.default(30),
    periodic_s: durationS.default(60),
    /**
     * Bounds on the periodic pass: steps one job's PeriodicHold/Release/Remove may take (past it
     * the job is held saying so) and steps one pass may take (jobs past it go first next pass).
     */
    periodic_job_step_budget: z.number().int().positive().default(1_000_000),
    periodic_pass_step_budget: z.number().int().positive().default(50_000_000),
    checkpoint_s: durationS.default(10),
    usage_half_life_s: durationS.default(86_400),
    max_input_transfer_failures: z.number().int().positive().default(3),
    history_s: durationS.default(30 * 86_400),
    /** Jobs one owner may have waiting outside the queue (max_materialize, max_idle). */
    max_unmaterialized_jobs: z.number().int().positive().default(100_000),
    significant_attributes: z.array(z.string()).default(DEFAULT_SIGNIFICANT_ATTRIBUTES),
    entry_attribute: z.string().default("MATCH_GLIDEIN_Entry_Name"),
    slot_entry_attribute: z.string().default(SLOT.EntryName),
    /**
     * Refuse ClaimJob from a pilot credential that carries no binding (a shared pilot proxy or
     * token): such a pilot's slot ad is otherwise trusted as sent, so whoever steals the shared
     * credential can claim any job. Turn on once every frontend gives per-pilot tokens.
     */
    require_pilot_binding: z.boolean().default(false),
    user_map: z
      .discriminatedUnion("mode", [
        z.object({ mode: z.literal("last-cn") }).strict(),
        z.object({ mode: z.literal("mapfile"), mapfile: z.string() }).strict(),
      ])
      .default({ mode: "last-cn" }),
    /** PROTECTED_JOB_ATTRS: attributes only an admin may change once a job has them. */
    protected_job_attrs: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/)).default([]),
    authorization: authorizationBlock,
    /** Bearer tokens accepted beside certificates; `public_url` is one of the audiences. */
    tokens: tokensConfigSchema.optional(),
    sandbox: z
      .object({
        max_file_mb: z.number().positive().default(1024),
        max_sandbox_mb: z.number().positive().default(4096),
        /** Spool bytes one owner's queued jobs may hold, inputs and outputs together. */
        quota_mb: z.number().positive().default(20_480),
        keep_output_s: duration(z.number().nonnegative()).default(168 * 3600),
      })
      .strict()
      .default({
        max_file_mb: 1024,
        max_sandbox_mb: 4096,
        quota_mb: 20_480,
        keep_output_s: 168 * 3600,
      }),
    /** The collector the schedd advertises its Scheduler ad to, every `interval_s`. */
    collector: collectorBlock({ interval_s: durationS.default(60) }).optional(),
    /**
     * Largest RPC message, 4 MiB as every listener: a SubmitJobs of about 10,000 jobs. A larger
     * cluster needs more (100,000 jobs are about 30 MB), set here by the operator.
     */
    max_message_mb: z.number().positive().default(4),
    /** Connection limits of the listener (shared block). */
    connections: connectionsBlock,
    log_level: logLevelKey,
  })
  .strict()
  .superRefine((c, ctx) => {
    // A message larger than the bytes a connection may hold in flight would always be refused.
    const budget = c.connections.max_bytes_in_flight_mb;
    if (c.max_message_mb > budget) {
      ctx.addIssue({
        code: "custom",
        path: ["max_message_mb"],
        message: `${c.max_message_mb} MB is more than connections.max_bytes_in_flight_mb (${budget} MB), so a message that large would always be refused: raise connections.max_bytes_in_flight_mb to at least ${c.max_message_mb}`,
      });
    }
  });

export type ScheddConfig = z.output<typeof scheddConfigSchema>;

/** Spellings of the previous release, accepted with a warning. */
export const SCHEDD_RENAMES: readonly KeyRename[] = [
  { from: "authz", to: "authorization" },
  ...AUTHORIZATION_RENAMES,
  { from: "cert_file", to: "tls.cert_file" },
  { from: "key_file", to: "tls.key_file" },
  { from: "trust_dir", to: "tls.trust_dir" },
  { from: "lease_minutes", to: "lease_s", scale: 60 },
  { from: "lease_check_seconds", to: "lease_check_s" },
  { from: "periodic_seconds", to: "periodic_s" },
  { from: "checkpoint_seconds", to: "checkpoint_s" },
  { from: "usage_half_life_hours", to: "usage_half_life_s", scale: 3600 },
  { from: "history_days", to: "history_s", scale: 86_400 },
  { from: "sandbox.keep_output_hours", to: "sandbox.keep_output_s", scale: 3600 },
  { from: "collector.interval_seconds", to: "collector.interval_s" },
];

/** Read and validate a config file; throws ConfigError listing every problem. */
export function loadScheddConfig(file: string): ScheddConfig {
  return loadConfigFile(scheddConfigSchema, file, process.env, SCHEDD_RENAMES);
}

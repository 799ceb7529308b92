/** The schedd's YAML configuration (config/schedd.yaml documents every key). */
import { z } from "zod";
import { tokensConfigSchema } from "../common/tokens-config.js";
import { loadConfigFile } from "../common/config.js";
import type { KeyRename } from "../common/config-renames.js";
import { authzConfigSchema } from "../security/authz.js";

export const DEFAULT_SIGNIFICANT_ATTRIBUTES = [
  "RequestCpus",
  "RequestMemory",
  "RequestDisk",
  "RequestGpus",
  "DESIRED_Sites",
  "DESIRED_Entries",
  "REQUIRED_OS",
  "x509UserProxyVOName",
];

export const scheddConfigSchema = z
  .object({
    name: z.string().min(1).default("schedd"),
    listen: z
      .object({ host: z.string().default("0.0.0.0"), port: z.number().int().min(0).max(65535) })
      .strict(),
    /** The URL users and pilots reach this schedd at (advertised); default from listen. */
    public_url: z.string().optional(),
    cert_file: z.string(),
    key_file: z.string(),
    trust_dir: z.string(),
    state_dir: z.string(),
    durability: z.enum(["normal", "full"]).default("normal"),
    group_commit: z.boolean().default(true),
    lease_minutes: z.number().positive().default(20),
    lease_check_seconds: z.number().positive().default(30),
    periodic_seconds: z.number().positive().default(60),
    checkpoint_seconds: z.number().positive().default(10),
    usage_half_life_hours: z.number().positive().default(24),
    max_input_transfer_failures: z.number().int().positive().default(3),
    history_days: z.number().positive().default(30),
    significant_attributes: z.array(z.string()).default(DEFAULT_SIGNIFICANT_ATTRIBUTES),
    entry_attribute: z.string().default("MATCH_GLIDEIN_Entry_Name"),
    slot_entry_attribute: z.string().default("GLIDEIN_Entry_Name"),
    user_map: z
      .discriminatedUnion("mode", [
        z.object({ mode: z.literal("last-cn") }).strict(),
        z.object({ mode: z.literal("mapfile"), mapfile: z.string() }).strict(),
      ])
      .default({ mode: "last-cn" }),
    /** PROTECTED_JOB_ATTRS: attributes only an admin may change once a job has them. */
    protected_job_attrs: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/)).default([]),
    authz: authzConfigSchema,
    /** Bearer tokens accepted beside certificates; `public_url` is one of the audiences. */
    tokens: tokensConfigSchema.optional(),
    sandbox: z
      .object({
        max_file_mb: z.number().positive().default(1024),
        max_sandbox_mb: z.number().positive().default(4096),
        keep_output_hours: z.number().nonnegative().default(168),
      })
      .strict()
      .default({ max_file_mb: 1024, max_sandbox_mb: 4096, keep_output_hours: 168 }),
    collector: z
      .object({ url: z.string(), interval_seconds: z.number().positive().default(60) })
      .strict()
      .optional(),
    /** Largest RPC message: a SubmitJobs of a 100,000-job cluster is tens of MB. */
    max_message_mb: z.number().positive().default(64),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  })
  .strict();

export type ScheddConfig = z.output<typeof scheddConfigSchema>;

/** Spellings of the previous release, accepted with a warning. */
export const SCHEDD_RENAMES: readonly KeyRename[] = [
  { from: "authz.defaultRoles", to: "authz.default_roles" },
];

/** Read and validate a config file; throws ConfigError listing every problem. */
export function loadScheddConfig(file: string): ScheddConfig {
  return loadConfigFile(scheddConfigSchema, file, process.env, SCHEDD_RENAMES);
}

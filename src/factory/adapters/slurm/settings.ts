/**
 * Settings of a `slurm` entry (the `adapter:` block of a factory entry), validated once when the
 * adapter is made. Resource settings given here win over the entry's `pilot:` resources, so an
 * entry can ask Slurm for a whole node while the pilot still advertises what it finds.
 */
import { z } from "zod";

/** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const SLURM_TIME = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$/;

/** Slurm names (partition, account, QoS): no spaces or shell metacharacters. */
const slurmName = z
  .string()
  .regex(/^[A-Za-z0-9_.+-]+$/, "letters, digits, '_', '.', '+' and '-' only");

/** A path on the remote side; written into shell scripts, so no quotes or newlines. */
const remotePath = z
  .string()
  .regex(/^\/[^'"\n\\`$]*$/, "an absolute path without quotes, '$', '`', '\\' or newlines");

export const sshSettingsSchema = z
  .object({
    host: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "a host name or address"),
    user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, "a user name"),
    port: z.number().int().min(1).max(65535).default(22),
    /** Private key for key authentication (BatchMode: never a password prompt). */
    identity_file: z.string().min(1),
    /** Per-entry folder on the login node; pilot files go to `<remote_dir>/<prefix>/<handle>/`. */
    remote_dir: remotePath,
    /** known_hosts file for the login node's host key; ssh's default when absent. */
    known_hosts_file: z
      .string()
      .regex(/^\S+$/, "a path without whitespace (ssh splits -o values)")
      .optional(),
    /** Seconds before a command over SSH is given up (the factory holds nothing meanwhile). */
    timeout_s: z.number().positive().default(60),
  })
  .strict();

export const slurmSettingsSchema = z
  .object({
    partition: slurmName.optional(),
    account: slurmName.optional(),
    qos: slurmName.optional(),
    /** `--time`; the pilot's walltime (rounded up to minutes) when absent. */
    time_limit: z
      .string()
      .regex(SLURM_TIME, "a Slurm time such as 90, 1:30:00 or 2-00:00:00")
      .optional(),
    /** `--cpus-per-task`; the pilot's CPUs when absent. */
    cpus: z.number().int().positive().optional(),
    /** `--mem` in MB; the pilot's memory when absent. */
    memory_mb: z.number().int().positive().optional(),
    /** `--gres=gpu:N`. */
    gpus: z.number().int().nonnegative().default(0),
    /** More `sbatch` options, one per element, e.g. `--constraint=avx2`. */
    extra_sbatch_options: z
      .array(z.string().regex(/^-[^\n]*$/, "an option starting with '-', on one line"))
      .default([]),
    /** Exported as SLURM_CONF to every Slurm command. */
    slurm_conf: remotePath.optional(),
    /** Folder holding the Slurm commands when they are not on PATH. */
    slurm_bin_dir: remotePath.optional(),
    /**
     * The jobcomp/filetxt file, where finished jobs are looked up once squeue forgets them. When
     * absent it is read from `scontrol show config` (JobCompType=jobcomp/filetxt, JobCompLoc).
     */
    jobcomp_file: remotePath.optional(),
    /**
     * After sbatch, wait up to this long for Slurm's scheduler to look at the new jobs (started,
     * or pending with a reason), so the first status is Slurm's decision rather than "not looked
     * at yet". 0: return as soon as sbatch answered.
     */
    settle_s: z.number().nonnegative().max(60).default(0),
    /**
     * Submit a batch of pilots with consecutive intent ids and the same resources as one job
     * array (`sbatch --array`), one task per pilot. A single pilot is always a job of its own.
     */
    job_arrays: z.boolean().default(true),
    /**
     * Most pilots in one job array; larger batches are split. Slurm's MaxArraySize (read from
     * `scontrol show config`) bounds it too.
     */
    max_array_size: z.number().int().min(2).optional(),
    /** Largest output tail returned by fetchOutput, per stream. */
    max_output_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Seconds before a local Slurm command is given up. */
    command_timeout_s: z.number().positive().default(60),
    /** Run the Slurm commands on a login node over SSH (BOSCO style). */
    ssh: sshSettingsSchema.optional(),
  })
  .strict();

export type SlurmSettings = z.infer<typeof slurmSettingsSchema>;
export type SshSettings = z.infer<typeof sshSettingsSchema>;

/**
 * Parse settings. A problem throws zod's own error, whose issues carry their paths: the factory
 * reports them as configuration problems (`entries[N].adapter.ssh.port: ...`), all at once.
 */
export function parseSlurmSettings(raw: Record<string, unknown>): SlurmSettings {
  return slurmSettingsSchema.parse(raw);
}

/**
 * Pure: the batch script a pilot runs as, and the `sbatch` options of its submission, alone or
 * as a task of a job array. The script writes the pilot's exit status into its own folder, so an
 * outcome survives even where Slurm keeps no record of finished jobs.
 */
import type { PilotSpec } from "../types.js";
import type { SlurmSettings } from "./settings.js";
import { UpdraftError } from "../../../common/errors.js";

/** A pilot's batch script cannot be written as asked (a name in its environment is not a variable name). */
export class SlurmScriptError extends UpdraftError {
  readonly code = "slurm-script";
  override name = "SlurmScriptError";
}

/** One argument quoted for a POSIX shell. */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names of files in a pilot's folder (on the machine where Slurm runs it). */
export const PILOT_FILES = {
  script: "pilot.sh",
  credential: "credential.pem",
  stdout: "stdout",
  stderr: "stderr",
  exitCode: "exit_code",
  /** The batch script of a job array, in the array's folder above its tasks' folders. */
  arrayScript: "array.sh",
} as const;

export interface ScriptPaths {
  /** The pilot's folder on the Slurm side. */
  dir: string;
  /** The command to run there (the entry's command, or its copy on the login node). */
  command: string;
  /** The credential's copy in `dir`, when the pilot has one. */
  credential?: string;
}

/**
 * The batch script. Slurm starts it with the environment of an `sbatch` run with nothing but
 * PATH and SLURM_CONF (scripts.ts), so nothing of the factory's own environment (its credentials
 * included) reaches the pilot; the pilot's environment is set here.
 */
export function batchScript(spec: PilotSpec, paths: ScriptPaths): string {
  const env: [string, string][] = [
    ["UPDRAFT_PILOT_ID", String(spec.intentId)],
    ["UPDRAFT_PILOT_WALLTIME_S", String(spec.resources.walltimeS)],
  ];
  if (paths.credential) {
    env.push(["UPDRAFT_PILOT_CREDENTIAL", paths.credential], ["X509_USER_PROXY", paths.credential]);
  }
  for (const [k, v] of Object.entries(spec.env)) {
    if (!ENV_NAME.test(k))
      throw new SlurmScriptError(`pilot environment: '${k}' is not a variable name`);
    env.push([k, v]);
  }
  const exitFile = shQuote(`${paths.dir}/${PILOT_FILES.exitCode}`);
  const lines = [
    "#!/bin/sh",
    "# An Updraft pilot, submitted by the factory's slurm adapter.",
    `cd ${shQuote(paths.dir)} || exit 1`,
    // No UPDRAFT_PILOT_CPUS/MEMORY here: the pilot's validation reads Slurm's own
    // SLURM_CPUS_ON_NODE and SLURM_MEM_PER_NODE, which say what was really allocated.
    'HOME="${HOME:-$PWD}"; TMPDIR="${TMPDIR:-$PWD}"; export HOME TMPDIR',
    ...env.map(([k, v]) => `${k}=${shQuote(v)}; export ${k}`),
    [shQuote(paths.command), ...spec.args.map(shQuote)].join(" "),
    "rc=$?",
    `echo "$rc" > ${exitFile}.tmp && mv ${exitFile}.tmp ${exitFile}`,
    'exit "$rc"',
    "",
  ];
  return lines.join("\n");
}

/**
 * The batch script of a job array. Each task's pilot has its own folder `<array dir>/<task id>`
 * holding its own batch script (arguments, environment, credential: `batchScript` above), so the
 * only value taken from the task is its id, used once it is known to be digits only.
 */
export function arrayScript(arrayDir: string): string {
  return [
    "#!/bin/sh",
    "# A job array of Updraft pilots, submitted by the factory's slurm adapter: task N runs the",
    "# pilot whose folder is N, next to this script.",
    'case "${SLURM_ARRAY_TASK_ID:-}" in',
    `  '' | *[!0-9]*) echo "not a task of a job array: '\${SLURM_ARRAY_TASK_ID:-}'" >&2; exit 1 ;;`,
    "esac",
    `exec ${shQuote(arrayDir)}/"$SLURM_ARRAY_TASK_ID"/${PILOT_FILES.script}`,
    "",
  ].join("\n");
}

/** Slurm's `--time` in minutes, rounded up: a pilot's walltime must fit inside the limit. */
function minutes(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds / 60)));
}

/** `sbatch` arguments for one pilot (the script path comes last). */
export function sbatchArgs(
  settings: SlurmSettings,
  spec: PilotSpec,
  jobName: string,
  dir: string,
): string[] {
  return jobArgs(settings, spec, jobName, dir, dir, PILOT_FILES.script);
}

/**
 * `sbatch` arguments for a job array of pilots like `spec` (the script path comes last, and
 * `--array` is added with `withTasks`). Each task writes its output into its own folder: Slurm
 * replaces `%a` by the task id.
 */
export function arraySbatchArgs(
  settings: SlurmSettings,
  spec: PilotSpec,
  jobName: string,
  arrayDir: string,
): string[] {
  return jobArgs(settings, spec, jobName, arrayDir, `${arrayDir}/%a`, PILOT_FILES.arrayScript);
}

/** Array arguments with `--array=<tasks>` before the script path. */
export function withTasks(args: readonly string[], tasks: string): string[] {
  return [...args.slice(0, -1), `--array=${tasks}`, args.at(-1)!];
}

function jobArgs(
  settings: SlurmSettings,
  spec: PilotSpec,
  jobName: string,
  dir: string,
  outputDir: string,
  script: string,
): string[] {
  const args = [
    "--parsable",
    `--job-name=${jobName}`,
    `--chdir=${dir}`,
    `--output=${outputDir}/${PILOT_FILES.stdout}`,
    `--error=${outputDir}/${PILOT_FILES.stderr}`,
    // Not NONE: for NONE, Slurm loads the user's login environment on the node (`su - user`),
    // 1.3 s of every pilot's start here. The pilot gets sbatch's own environment instead, which
    // submitScript empties but for PATH and SLURM_CONF.
    "--export=ALL",
    "--nodes=1",
    "--ntasks=1",
    `--cpus-per-task=${settings.cpus ?? spec.resources.cpus}`,
    `--mem=${settings.memory_mb ?? spec.resources.memoryMb}`,
    `--time=${settings.time_limit ?? minutes(spec.resources.walltimeS)}`,
    // The pilot's failures are the pilot's to report; a requeue would run it twice.
    "--no-requeue",
  ];
  if (settings.partition) args.push(`--partition=${settings.partition}`);
  if (settings.account) args.push(`--account=${settings.account}`);
  if (settings.qos) args.push(`--qos=${settings.qos}`);
  if (settings.gpus > 0) args.push(`--gres=gpu:${settings.gpus}`);
  args.push(...settings.extra_sbatch_options);
  args.push(`${dir}/${script}`);
  return args;
}

/** The id `sbatch --parsable` printed: `12345` or `12345;cluster`. */
export function parseSbatchId(stdout: string): string | undefined {
  const m = /^(\d+)(;\S+)?\s*$/.exec(stdout.trim().split("\n").pop() ?? "");
  return m?.[1];
}

/** Messages of sbatch refusals that a later retry may get past (the controller was busy or away). */
const TRANSIENT = [
  /unable to contact slurm controller/i,
  /socket timed out/i,
  /temporarily unable/i,
  /resource temporarily unavailable/i,
  /connection refused/i,
  /communication connection failure/i,
  /slurmctld.*(busy|down|not responding)/i,
  /timed out/i,
];

export function refusalIsTransient(stderr: string): boolean {
  return TRANSIENT.some((re) => re.test(stderr));
}

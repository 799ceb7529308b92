/** The submit commands Updraft knows, and a spelling hint for the ones it does not. */
import { ACCEPTED_WITHOUT_EFFECT } from "./accepted-commands.js";

/** Keys handled by the derivations (lower-case), with their accepted aliases. */
export const KNOWN_COMMANDS: readonly string[] = [
  "max_idle",
  "max_materialize",
  "preserve_relative_paths",
  "executable",
  "arguments",
  "environment",
  "getenv",
  "input",
  "output",
  "error",
  "log",
  "transfer_executable",
  "transfer_input_files",
  "transfer_output_files",
  "transfer_output_remaps",
  "should_transfer_files",
  "when_to_transfer_output",
  "request_cpus",
  "request_memory",
  "request_disk",
  "request_gpus",
  "requirements",
  "rank",
  "priority",
  "universe",
  "hold",
  "max_retries",
  "num_retries",
  "success_exit_code",
  "retry_until",
  "periodic_remove",
  "periodic_hold",
  "periodic_release",
  "on_exit_remove",
  "on_exit_hold",
  "on_exit_hold_reason",
  "on_exit_hold_subcode",
  "periodic_hold_reason",
  "periodic_hold_subcode",
  "notification",
  "initialdir",
  "batch_name",
  "x509userproxy",
  "use_x509userproxy",
  "use_scitokens",
  "use_scitoken",
  "scitokens_file",
  // Refused with why (a container universe job).
  "container_image",
  "docker_image",
];

const KNOWN = new Set([...KNOWN_COMMANDS, ...Object.keys(ACCEPTED_WITHOUT_EFFECT)]);

/**
 * Job attribute names condor_submit also takes as commands (its keywords' alternate names, so
 * `WhenToTransferOutput = ON_EXIT` works), by lower-case name.
 */
const ATTRIBUTE_SPELLINGS: Readonly<Record<string, string>> = {
  cmd: "executable",
  in: "input",
  out: "output",
  err: "error",
  userlog: "log",
  iwd: "initialdir",
  transferexecutable: "transfer_executable",
  transferinput: "transfer_input_files",
  transferoutput: "transfer_output_files",
  transferoutputremaps: "transfer_output_remaps",
  shouldtransferfiles: "should_transfer_files",
  whentotransferoutput: "when_to_transfer_output",
  requestcpus: "request_cpus",
  requestmemory: "request_memory",
  requestdisk: "request_disk",
  requestgpus: "request_gpus",
  jobprio: "priority",
  jobmaxretries: "max_retries",
  successexitcode: "success_exit_code",
  periodicremove: "periodic_remove",
  periodichold: "periodic_hold",
  periodicrelease: "periodic_release",
  onexitremove: "on_exit_remove",
  onexithold: "on_exit_hold",
  onexitholdreason: "on_exit_hold_reason",
  onexitholdsubcode: "on_exit_hold_subcode",
  periodicholdreason: "periodic_hold_reason",
  periodicholdsubcode: "periodic_hold_subcode",
  jobnotification: "notification",
  jobbatchname: "batch_name",
  acctgroup: "accounting_group",
  acctgroupuser: "accounting_group_user",
  streamout: "stream_output",
  streamerr: "stream_error",
  concurrencylimits: "concurrency_limits",
  jobmaxvacatetime: "job_max_vacate_time",
  notifyuser: "notify_user",
  wantgracefulremoval: "want_graceful_removal",
  jobleaseduration: "job_lease_duration",
  scitokensfile: "scitokens_file",
};

/** The command a key stands for, lower-case: itself, or the command an attribute name spells. */
export function canonicalCommand(key: string): string {
  const lower = key.toLowerCase();
  return ATTRIBUTE_SPELLINGS[lower] ?? lower;
}

/** A custom attribute key: `+Name` or `MY.Name`; returns the attribute name. */
export function customAttributeName(key: string): string | null {
  if (key.startsWith("+")) return key.slice(1);
  if (/^my\./i.test(key)) return key.slice(3);
  return null;
}

export function isKnownCommand(lowerKey: string): boolean {
  return KNOWN.has(lowerKey);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known command closest in spelling to `lowerKey`, when it is close enough to be a typo. */
export function closestCommand(lowerKey: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of KNOWN_COMMANDS) {
    const d = distance(lowerKey, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(lowerKey.length / 3)) ? best : undefined;
}

/**
 * Submit commands that condor_submit knows and Updraft accepts without acting on them: the
 * attribute HTCondor writes is written the same way (tools that read it keep working), and the
 * submit prints a warning naming FILE:LINE and what Updraft does instead, so no user is misled.
 */
import type { Derivation } from "./derive-context.js";
import { parseBool, str } from "./derive-files.js";
import { JOB } from "../../ads/names.js";

type Kind = "string" | "bool" | "int" | "expr" | "none";

interface Accepted {
  /** The attribute condor_submit writes, or null when it writes none here. */
  readonly attr: string | null;
  readonly kind: Kind;
  /** Why it has no effect, or what happens instead. */
  readonly note: string;
}

export const ACCEPTED_WITHOUT_EFFECT: Readonly<Record<string, Accepted>> = {
  notify_user: { attr: "NotifyUser", kind: "string", note: "Updraft sends no mail" },
  email_attributes: { attr: "EmailAttributes", kind: "string", note: "Updraft sends no mail" },
  want_graceful_removal: {
    attr: "WantGracefulRemoval",
    kind: "expr",
    note: "a removed job always gets SIGTERM, then SIGKILL after the pilot's grace period",
  },
  kill_sig: {
    attr: "KillSig",
    kind: "string",
    note: "a job is stopped with SIGTERM, then SIGKILL",
  },
  job_lease_duration: {
    attr: "JobLeaseDuration",
    kind: "expr",
    note: "the schedd leases jobs to pilots for its own lease_s",
  },
  nice_user: { attr: "NiceUser", kind: "bool", note: "fair share treats every user alike" },
  coresize: { attr: "CoreSize", kind: "int", note: "the core size limit is the node's" },
  image_size: { attr: JOB.ImageSize, kind: "int", note: "use request_memory" },
  leave_in_queue: {
    attr: "LeaveJobInQueue",
    kind: "expr",
    note: "a finished job goes to the history at once",
  },
  job_machine_attrs: { attr: "JobMachineAttrs", kind: "string", note: "not recorded" },
  submit_event_notes: { attr: "SubmitEventNotes", kind: "string", note: "not in the event log" },
  skip_filechecks: { attr: null, kind: "none", note: "files are always checked" },
  accounting_group: {
    attr: "AcctGroup",
    kind: "string",
    note: "fair share is kept per owner, not per accounting group",
  },
  accounting_group_user: {
    attr: "AcctGroupUser",
    kind: "string",
    note: "fair share is kept per owner, not per accounting group",
  },
  concurrency_limits: {
    attr: "ConcurrencyLimits",
    kind: "string",
    note: "no concurrency limits are kept: jobs start as pilots claim them",
  },
  next_job_start_delay: {
    attr: "NextJobStartDelay",
    kind: "int",
    note: "jobs start as pilots claim them",
  },
  stream_output: {
    attr: "StreamOut",
    kind: "bool",
    note: "the output comes back when the job ends (updraft transfer-output)",
  },
  stream_error: {
    attr: "StreamErr",
    kind: "bool",
    note: "the error output comes back when the job ends (updraft transfer-output)",
  },
  job_max_vacate_time: {
    attr: "JobMaxVacateTime",
    kind: "int",
    note: "a stopped job gets the pilot's own grace period between SIGTERM and SIGKILL",
  },
  checkpoint_exit_code: {
    attr: "CheckpointExitCode",
    kind: "int",
    note: "that exit code ends the job like any other; it is not restarted from a checkpoint",
  },
  encrypt_execute_directory: {
    attr: "EncryptExecuteDirectory",
    kind: "bool",
    note: "the sandbox is private to the job but not encrypted",
  },
};

/** The warning for an accepted command, as condor_submit words its own. */
export function acceptedWarning(written: string, lowerKey: string): string | undefined {
  const a = ACCEPTED_WITHOUT_EFFECT[lowerKey];
  return a && `'${written}' is accepted but has no effect: ${a.note}`;
}

function derivation(key: string, a: Accepted): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined || value === "" || a.attr === null) return;
      if (a.kind === "string") ctx.emit(a.attr, str(value.replace(/^"(.*)"$/, "$1")));
      else if (a.kind === "int") {
        if (/^[+-]?\d+$/.test(value)) ctx.emit(a.attr, String(Number(value)));
        else ctx.fail(key, `${key} must be an integer, not '${value}'`);
      } else if (a.kind === "bool") {
        const b = parseBool(value);
        if (b === undefined) ctx.fail(key, `${key} must be true or false, not '${value}'`);
        else ctx.emit(a.attr, String(b));
      } else {
        const text = ctx.expression(key, value);
        if (text !== undefined) ctx.emit(a.attr, text);
      }
    },
  };
}

export const ACCEPTED_DERIVATIONS: readonly Derivation[] = Object.entries(
  ACCEPTED_WITHOUT_EFFECT,
).map(([key, a]) => derivation(key, a));

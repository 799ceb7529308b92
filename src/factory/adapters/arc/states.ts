/**
 * ARC REST 1.0 answers as they come, turned into the adapter's terms. Pure: no IO.
 *
 * A-REX answers every bulk call with `{"job": ...}` where `job` is one object for one element and
 * an array for several, each element carrying its own `status-code` (as a string) even when the
 * HTTP status is 201 or 200 for the whole call. States are A-REX's REST names.
 */
import { pilotEnded } from "../exit-status.js";
import type { AdapterState, PilotStatus } from "../types.js";
import { UpdraftError } from "../../../common/errors.js";

export class ArcProtocolError extends UpdraftError {
  readonly code = "arc-protocol";
  override name = "ArcProtocolError";
}

export interface ArcJobEntry {
  id: string | undefined;
  /** The per-element status code (201 created, 200 ok, 202 queued, 404 unknown, 500 failed). */
  code: number;
  reason: string;
  state: string | undefined;
  /** Everything else the element carried (info documents, for instance). */
  raw: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The elements of an A-REX bulk answer, always as a list. `where` names the call in errors. An
 * empty answer (A-REX sends one when the request's Content-Type is not exactly
 * application/json) is an error, not zero jobs.
 */
export function normaliseJobList(body: unknown, where: string): ArcJobEntry[] {
  if (!isObject(body)) throw new ArcProtocolError(`${where}: the answer is not a JSON object`);
  if (!("job" in body)) throw new ArcProtocolError(`${where}: the answer has no "job" member`);
  const items = Array.isArray(body.job) ? body.job : [body.job];
  return items.map((item, i) => {
    if (!isObject(item)) throw new ArcProtocolError(`${where}: job[${i}] is not an object`);
    const codeText = item["status-code"];
    const code = Number(codeText);
    if (codeText === undefined || !Number.isInteger(code)) {
      throw new ArcProtocolError(
        `${where}: job[${i}] has no valid status-code (${JSON.stringify(codeText)})`,
      );
    }
    const id = typeof item.id === "string" && item.id !== "" ? item.id : undefined;
    const state = typeof item.state === "string" ? item.state : undefined;
    const reason = typeof item.reason === "string" ? item.reason : "";
    return { id, code, reason, state, raw: item };
  });
}

/** The ids of a `GET /jobs` listing (elements have only an id there). */
export function normaliseJobIds(body: unknown, where: string): string[] {
  if (isObject(body) && Object.keys(body).length === 0) return [];
  if (!isObject(body) || !("job" in body)) {
    throw new ArcProtocolError(`${where}: the answer has no "job" member`);
  }
  const items = Array.isArray(body.job) ? body.job : [body.job];
  return items.map((item, i) => {
    if (!isObject(item) || typeof item.id !== "string") {
      throw new ArcProtocolError(`${where}: job[${i}] has no id`);
    }
    return item.id;
  });
}

/** What an ARC state means for a pilot, before any exit code is known. */
export type ArcStateClass =
  | { kind: "state"; state: AdapterState; waiting?: boolean }
  /** The payload may be over; its exit code (in the job's diag) decides. */
  | { kind: "exited"; failed: boolean; ended: boolean }
  | { kind: "unrecognised" };

const CLASSES: Readonly<Record<string, ArcStateClass>> = {
  ACCEPTING: { kind: "state", state: "Idle", waiting: true },
  ACCEPTED: { kind: "state", state: "Idle" },
  PREPARING: { kind: "state", state: "Idle" },
  PREPARED: { kind: "state", state: "Idle" },
  SUBMITTING: { kind: "state", state: "Idle" },
  QUEUING: { kind: "state", state: "Idle" },
  RUNNING: { kind: "state", state: "Running" },
  HELD: { kind: "state", state: "Held" },
  // The LRMS says the payload ended; A-REX has yet to notice (its scan runs every few seconds).
  EXITINGLRMS: { kind: "exited", failed: false, ended: false },
  EXECUTED: { kind: "exited", failed: false, ended: false },
  OTHER: { kind: "state", state: "Running" },
  FINISHING: { kind: "exited", failed: false, ended: false },
  FINISHED: { kind: "exited", failed: false, ended: true },
  FAILED: { kind: "exited", failed: true, ended: true },
  KILLING: { kind: "state", state: "Removed" },
  KILLED: { kind: "state", state: "Removed" },
  WIPED: { kind: "state", state: "Unknown" },
};

export function classifyArcState(state: string | undefined): ArcStateClass {
  return (state !== undefined && CLASSES[state.toUpperCase()]) || { kind: "unrecognised" };
}

/**
 * The pilot's status from one status element and, for states where the payload may have ended,
 * the exit code the job's diag recorded (undefined: none recorded) and the CE's error text.
 */
export function toPilotStatus(
  handle: string,
  entry: Pick<ArcJobEntry, "code" | "reason" | "state">,
  diag?: { exitCode: number | undefined; errors: string },
): PilotStatus {
  if (entry.code === 404) return { handle, state: "Unknown" };
  if (entry.code !== 200) {
    return {
      handle,
      state: "Held",
      holdReason: `the CE answered ${entry.code} for this job: ${entry.reason || "no reason given"}`,
      holdRecoverable: true,
    };
  }
  const c = classifyArcState(entry.state);
  if (c.kind === "unrecognised") {
    return {
      handle,
      state: "Held",
      holdReason: `the CE reports a state this adapter does not know: ${JSON.stringify(entry.state)}`,
      holdRecoverable: true,
    };
  }
  if (c.kind === "state") {
    const s: PilotStatus = { handle, state: c.state };
    if (c.waiting) s.waiting = true;
    if (c.state === "Held") {
      s.holdReason = `the CE holds the job (${entry.state})`;
      s.holdRecoverable = true;
    }
    return s;
  }
  const exitCode = diag?.exitCode;
  if (exitCode !== undefined) return pilotEnded(handle, exitCode, " on the CE");
  if (!c.ended) return { handle, state: "Running" };
  if (!c.failed) return { handle, state: "Finished", exitCode: 0 };
  // FAILED without an exit code: the CE failed the job before or around running it.
  return {
    handle,
    state: "Held",
    holdReason: `the CE failed the job: ${firstLine(diag?.errors) || "no reason given"}`,
    holdRecoverable: false,
  };
}

function firstLine(text: string | undefined): string {
  if (!text) return "";
  // A-REX's errors file interleaves the job's state history and the back end's log with the
  // failure itself; the reason is the last line that says what went wrong.
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/Job state change|^-----/.test(l));
  const failure = lines.filter((l) => /error|fail|not found|cannot|refus|missing/i.test(l));
  return (failure.at(-1) ?? lines.at(-1) ?? "").slice(0, 500);
}

/** The `exitcode=N` the LRMS job script appends to the job's diag when the payload ends. */
export function parseDiagExitCode(diag: string): number | undefined {
  let found: number | undefined;
  for (const m of diag.matchAll(/^exitcode=(\d+)\s*$/gim)) found = Number(m[1]);
  return found;
}

/**
 * The inputs and outputs of the factory's pure submit/remove decision. The daemon builds a
 * `DecisionSnapshot` from its config, database and the collector's GlideClient ads, and applies
 * the returned `Decision`; nothing here does IO.
 */

/** Where a pilot is, in the factory's own terms (each adapter maps its states to these). */
export const PILOT_STATES = [
  "Unsubmitted",
  "Idle",
  "Running",
  "Held",
  "Finished",
  "Removed",
  "Lost",
] as const;
export type PilotState = (typeof PILOT_STATES)[number];

/** States in which a pilot still counts against limits. */
export const LIVE_STATES: ReadonlySet<PilotState> = new Set([
  "Unsubmitted",
  "Idle",
  "Running",
  "Held",
]);

export type RemoveExcess = "NO" | "WAIT" | "IDLE" | "ALL";

export interface Limits {
  maxGlideins?: number;
  maxIdle?: number;
  maxHeld?: number;
}

export interface EntryPolicy {
  name: string;
  enabled: boolean;
  perEntry: Limits;
  /** By security class; "default" applies to classes not listed. */
  perFrontend: Readonly<Record<string, Limits>>;
  maxPerCycle: number;
  removeMargin: number;
  /** Security classes allowed here; undefined = every configured class. */
  allowClasses?: readonly string[];
}

/** A frontend's security class and the one certificate identity allowed to use it. */
export interface SecurityClass {
  frontend: string;
  name: string;
  identity: string;
}

/** One GlideClient ad, as the decision needs it. */
export interface ClientRequest {
  entry: string;
  /** The client's name (GlideClient `ClientName`), the unit pilots are counted for. */
  client: string;
  frontend: string;
  securityClass: string;
  /** Who wrote the ad, as the collector authenticated it. */
  authenticatedIdentity: string;
  reqIdle: number;
  reqMax: number;
  removeExcess: RemoveExcess;
  /** The request's own margin; the entry's default otherwise. */
  removeMargin?: number;
  /** glideinWMS's ReqIdleLifetime: seconds a pilot may wait idle in the site queue (0: no limit). */
  idleLifetimeS?: number;
}

export interface Downtime {
  id?: number;
  /** An entry name or "all". */
  entry: string;
  /** A frontend name; undefined = every frontend. */
  frontend?: string;
  start: number;
  /** undefined = until removed. */
  end?: number;
  comment?: string;
}

/** What the decision needs to know about one tracked pilot. */
export interface TrackedPilot {
  id: number;
  entry: string;
  client: string;
  securityClass: string;
  state: PilotState;
  /** Idle and not yet accepted by the remote system (glideinWMS "unsubmitted idle"). */
  waiting?: boolean;
  /** null while only an intent (then `createdAt` orders it). */
  submittedAt: number | null;
  createdAt?: number;
}

export interface DecisionSnapshot {
  now: number;
  entries: readonly EntryPolicy[];
  securityClasses: readonly SecurityClass[];
  downtimes: readonly Downtime[];
  requests: readonly ClientRequest[];
  pilots: readonly TrackedPilot[];
}

/** The rule that bound a submit count; `requested` means the request itself was the bound. */
export type SubmitBound =
  | "requested"
  | "ReqMaxGlideins"
  | "entry.max_glideins"
  | "entry.max_idle"
  | "entry.max_held"
  | "frontend.max_glideins"
  | "frontend.max_idle"
  | "frontend.max_held"
  | "max_per_cycle"
  | "downtime"
  | "removing_excess";

export type RemoveReason = "excess_waiting" | "excess_idle" | "excess_running" | "excess_held";

export interface PilotRemoval {
  pilotId: number;
  reason: RemoveReason;
}

export interface ClientDecision {
  entry: string;
  client: string;
  frontend: string;
  securityClass: string;
  reqIdle: number;
  reqMax: number;
  submit: number;
  /** What stopped `submit` from being larger (the first binding rule). */
  boundBy: SubmitBound;
  /** Every limit that was reached, for monitoring ads. */
  limitsHit: SubmitBound[];
  remove: PilotRemoval[];
  counts: ClientCounts;
}

export type RefusalReason =
  | "unknown_entry"
  | "entry_disabled"
  | "unknown_security_class"
  | "identity_mismatch"
  | "class_not_allowed_on_entry";

export interface Refusal {
  entry: string;
  client: string;
  frontend: string;
  securityClass: string;
  authenticatedIdentity: string;
  reason: RefusalReason;
}

export interface Decision {
  clients: ClientDecision[];
  refused: Refusal[];
}

export interface ClientCounts {
  /** Unsubmitted intents plus Idle pilots. */
  idle: number;
  running: number;
  held: number;
}

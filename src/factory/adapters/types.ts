/**
 * The interface every grid adapter implements (local processes, Slurm, ARC, ...): submit a batch,
 * status in bulk, remove, fetch output, and recover what exists after a factory restart. An
 * adapter keeps whatever it needs to re-attach in its own state directory; the factory keeps
 * only the opaque handle. Each submission carries the factory's intent id so `recover()` can
 * match submissions the factory did not live to record.
 */
import type { Logger } from "../../common/logger.js";
import type { PilotState } from "../decide-types.js";

export interface ResourceRequest {
  cpus: number;
  memoryMb: number;
  walltimeS: number;
}

export interface PilotSpec {
  /** The factory's pilot id, recorded with the submission so recovery can match it. */
  intentId: number;
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  /** A 0600 file holding the pilot's credential, if any. */
  credentialFile?: string;
  /**
   * A 0600 file holding the bearer token the frontend sent for submitting to this entry's CE
   * (its audience the CE), for adapters with the `submitToken` capability.
   */
  submitTokenFile?: string;
  resources: ResourceRequest;
}

export type SubmitResult =
  { intentId: number; ok: true; handle: string } | { intentId: number; ok: false; error: string };

/** States as adapters report them; `Unknown` means the remote system no longer knows the handle. */
export type AdapterState = "Idle" | "Running" | "Held" | "Finished" | "Removed" | "Unknown";

export interface PilotStatus {
  handle: string;
  state: AdapterState;
  /** Idle but not yet accepted by the remote system. */
  waiting?: boolean;
  holdReason?: string;
  /** Whether releasing the hold could help (a transient CE error rather than a bad request). */
  holdRecoverable?: boolean;
  exitCode?: number;
}

export interface RecoveredPilot {
  intentId: number;
  handle: string;
  status: PilotStatus;
}

export interface PilotOutput {
  stdout: string;
  stderr: string;
}

export interface AdapterCapabilities {
  /** Held pilots can be released (resubmitted in place). */
  release: boolean;
  /** Largest batch one submit call takes. */
  maxBatch: number;
  /** Output is available after the pilot finished. */
  output: boolean;
  /** Submits with the frontend's CE token (PilotSpec.submitTokenFile), and needs one. */
  submitToken?: boolean;
}

export interface GridAdapter {
  readonly gridtype: string;
  readonly capabilities: AdapterCapabilities;
  submit(batch: readonly PilotSpec[]): Promise<SubmitResult[]>;
  /** Status of every handle given; handles the system does not know come back `Unknown`. */
  status(handles: readonly string[]): Promise<Map<string, PilotStatus>>;
  remove(handles: readonly string[]): Promise<void>;
  release?(handles: readonly string[]): Promise<void>;
  fetchOutput(handle: string): Promise<PilotOutput>;
  /** Everything this adapter's state says exists, with the intent id each was submitted for. */
  recover(): Promise<RecoveredPilot[]>;
  /** Forget pilots whose outcome the factory has recorded. */
  purge?(handles: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface AdapterContext {
  /** A directory the adapter owns, kept across restarts. */
  stateDir: string;
  logger: Logger;
  now: () => number;
}

export type AdapterFactory = (
  settings: Record<string, unknown>,
  ctx: AdapterContext,
) => GridAdapter;

export function toPilotState(s: AdapterState): PilotState {
  return s === "Unknown" ? "Lost" : s;
}

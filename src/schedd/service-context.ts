/** What the schedd's RPC handlers share, and the mapping from callers to job owners. */
import type { Logger } from "pino";
import type { Clock } from "../common/clock.js";
import type { CallContext } from "../wire/index.js";
import {
  AlreadyExistsError,
  NotFoundError,
  PermissionDeniedError,
  WireError,
} from "../wire/index.js";
import { grantsScope } from "../security/authz.js";
import type { Caller } from "./queue-actions.js";
import type { JobQueue } from "./queue.js";
import type { LeaseRefusal } from "./results.js";
import type { ChainCheck } from "./job-proxy.js";
import type { Sandboxes } from "./sandbox.js";
import type { SpoolQuota } from "./spool-quota.js";
import type { UserMap } from "./user-map.js";

export interface ServiceDeps {
  queue: JobQueue;
  clock: Clock;
  userMap: UserMap;
  sandboxes: Sandboxes;
  /** `sandbox.quota_mb`: bytes each owner's queued jobs may hold in the spool. */
  spoolQuota: SpoolQuota;
  log: Logger;
  /** Checks the chain of a proxy a job brings (`x509userproxy`) against the trust directory. */
  checkJobProxy: ChainCheck;
  /** `require_pilot_binding`: ClaimJob refuses a pilot credential without a binding. */
  requirePilotBinding?: boolean;
}

/** The caller as a job owner; admins act on everyone's jobs. */
export function callerOf(deps: ServiceDeps, ctx: CallContext): Caller {
  const mapped = deps.userMap(ctx.identity, ctx.token);
  if (!mapped.ok) {
    throw new PermissionDeniedError(
      `no user name is mapped for '${ctx.identity}': ${mapped.reason}`,
      {
        reason: "unmapped-identity",
      },
    );
  }
  return { user: mapped.user, admin: ctx.roles.has("admin") };
}

/**
 * The WLCG compute scopes (Common JWT Profile 1.0): what a bearer-token caller may do at the
 * schedd. Certificate callers are governed by their roles alone.
 */
export const COMPUTE_SCOPE = {
  /** condor_q, condor_history, fetching outputs */
  read: "compute.read",
  /** condor_submit, uploading inputs */
  create: "compute.create",
  /** condor_hold, condor_release, condor_qedit */
  modify: "compute.modify",
  /** condor_rm */
  cancel: "compute.cancel",
} as const;

/** A token caller without `scope` is refused here, naming the scope it lacks. */
export function requireScope(ctx: CallContext, scope: string): void {
  if (ctx.token && !grantsScope(ctx.token.scopes, scope)) {
    throw new PermissionDeniedError(`token scope: ${ctx.method} needs the ${scope} scope`, {
      reason: "scope",
      scope,
    });
  }
}

/**
 * Lease refusals as stable wire errors: a duplicate completion or release is already-exists, an unknown
 * or stale (lapsed, killed) lease is not-found, another pilot's lease is permission-denied;
 * `details.reason` carries the precise reason.
 */
export function leaseError(r: LeaseRefusal): WireError {
  const details = { reason: r.reason };
  switch (r.reason) {
    case "duplicate-completion":
    case "duplicate-release":
      return new AlreadyExistsError(r.message, details);
    case "wrong-pilot":
      return new PermissionDeniedError(r.message, details);
    default:
      return new NotFoundError(r.message, details);
  }
}

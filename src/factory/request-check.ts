/**
 * Checks a GlideClient request must pass before the factory touches its credential: a chain of
 * small checkers, each returning a refusal reason or nothing. The identity check is the one that
 * matters for security: a frontend may only use a security class configured for its certificate.
 */
import type { ClientRequest, EntryPolicy, RefusalReason, SecurityClass } from "./decide-types.js";

export interface RequestContext {
  entries: ReadonlyMap<string, EntryPolicy>;
  /** Key: `${frontend}\u0000${class}`. */
  classes: ReadonlyMap<string, SecurityClass>;
}

type Checker = (r: ClientRequest, ctx: RequestContext) => RefusalReason | undefined;

export function classKey(frontend: string, securityClass: string): string {
  return `${frontend}\u0000${securityClass}`;
}

export function requestContext(
  entries: readonly EntryPolicy[],
  classes: readonly SecurityClass[],
): RequestContext {
  return {
    entries: new Map(entries.map((e) => [e.name, e])),
    classes: new Map(classes.map((c) => [classKey(c.frontend, c.name), c])),
  };
}

const checkers: readonly Checker[] = [
  // Identity first: an impostor learns nothing about which entries exist.
  (r, ctx) =>
    ctx.classes.has(classKey(r.frontend, r.securityClass)) ? undefined : "unknown_security_class",
  (r, ctx) =>
    ctx.classes.get(classKey(r.frontend, r.securityClass))?.identity === r.authenticatedIdentity
      ? undefined
      : "identity_mismatch",
  (r, ctx) => (ctx.entries.has(r.entry) ? undefined : "unknown_entry"),
  (r, ctx) => (ctx.entries.get(r.entry)?.enabled ? undefined : "entry_disabled"),
  (r, ctx) => {
    const allowed = ctx.entries.get(r.entry)?.allowClasses;
    return !allowed || allowed.includes(r.securityClass) ? undefined : "class_not_allowed_on_entry";
  },
];

/** The first reason to refuse `r`, or undefined when it may be served. */
export function checkRequest(r: ClientRequest, ctx: RequestContext): RefusalReason | undefined {
  for (const check of checkers) {
    const reason = check(r, ctx);
    if (reason) return reason;
  }
  return undefined;
}

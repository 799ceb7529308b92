/**
 * Matchmaking (SEMANTICS §5.1, §5.2): symmetric Requirements and the job's Rank of a slot.
 */
import type { ClassAd } from "./classad.js";
import { evaluateOwnAttribute } from "./compile.js";
import { SYSTEM_CLOCK } from "./eval-state.js";
import type { FnContext } from "./functions/index.js";
import { Real, type Value } from "./value.js";

/**
 * Whether a match expression's value means "yes": HTCondor's IsBooleanValueEquiv — true, or a
 * non-zero number. UNDEFINED, ERROR, strings and a missing Requirements mean no (§5.1).
 */
export function isTrueEquivalent(v: Value): boolean {
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    default:
      // NaN compares unequal to zero in C, so it counts as true there too.
      return v instanceof Real && v.v !== 0;
  }
}

/** `owner`'s Requirements, evaluated with MY = owner and TARGET = other, holds. */
export function requirementsHold(
  owner: ClassAd,
  other: ClassAd,
  ctx: FnContext = SYSTEM_CLOCK,
): boolean {
  return isTrueEquivalent(evaluateOwnAttribute(owner, "requirements", other, ctx));
}

/**
 * HTCondor's IsAMatch(job, slot): the slot's Requirements (MY = slot, TARGET = job) and then,
 * short-circuited, the job's (MY = job, TARGET = slot).
 */
export function symmetricMatch(job: ClassAd, slot: ClassAd, ctx: FnContext = SYSTEM_CLOCK): boolean {
  return requirementsHold(slot, job, ctx) && requirementsHold(job, slot, ctx);
}

/**
 * The job's Rank of a slot (MY = job, TARGET = slot): numbers as they are, booleans as 1/0,
 * anything else (UNDEFINED, ERROR, strings, no Rank) as 0 (§5.2).
 */
export function rank(job: ClassAd, slot: ClassAd, ctx: FnContext = SYSTEM_CLOCK): number {
  const v = evaluateOwnAttribute(job, "rank", slot, ctx);
  switch (typeof v) {
    case "number":
      return v;
    case "bigint":
      return Number(v);
    case "boolean":
      return v ? 1 : 0;
    default:
      return v instanceof Real ? v.v : 0;
  }
}

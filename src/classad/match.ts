/**
 * Matchmaking (SEMANTICS §5.1, §5.2): symmetric Requirements and the job's Rank of a slot.
 */
import type { ClassAd } from "./classad.js";
import { evaluateOwnAttribute } from "./compile.js";
import { SYSTEM_CLOCK } from "./eval-state.js";
import type { FnContext } from "./functions/index.js";
import { toLogical } from "./operators.js";
import { toJsNumber, type Value } from "./value.js";

/**
 * Whether a match expression's value means "yes": HTCondor's IsBooleanValueEquiv — true, or a
 * non-zero number. UNDEFINED, ERROR, strings and a missing Requirements mean no (§5.1).
 */
export function isTrueEquivalent(v: Value): boolean {
  // The same conversion as a logical operand's: strings, lists and ads become ERROR, not true.
  return toLogical(v) === true;
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
export function symmetricMatch(
  job: ClassAd,
  slot: ClassAd,
  ctx: FnContext = SYSTEM_CLOCK,
): boolean {
  return requirementsHold(slot, job, ctx) && requirementsHold(job, slot, ctx);
}

/**
 * The job's Rank of a slot (MY = job, TARGET = slot): numbers as they are, booleans as 1/0,
 * anything else (UNDEFINED, ERROR, strings, no Rank) as 0 (§5.2).
 */
export function rank(job: ClassAd, slot: ClassAd, ctx: FnContext = SYSTEM_CLOCK): number {
  return toJsNumber(evaluateOwnAttribute(job, "rank", slot, ctx)) ?? 0;
}

/**
 * A pilot's slot ad seen through its credential's PilotBinding, pure. The schedd trusts the
 * binding (signed by the frontend, or carried in a pilot token), not what the pilot writes about
 * itself: the binding's frontend, group, entry, site and factory replace the slot ad's values, a
 * slot ad that states different ones is refused (a payload holding a stolen credential is trying
 * to pass as another pilot), and the binding's start_expr is ANDed into the slot's Requirements so
 * only jobs the frontend admitted can match.
 */
import { parseExpression } from "../classad/index.js";
import { trustedSlotAttrs, type PilotBinding } from "../security/pilot-binding.js";
import { getAttr, quote, setAttr, type JobAttrs } from "./job-status.js";
import { SLOT } from "../ads/names.js";

export type BindSlotOptions = {
  /** The slot attribute holding the entry name (`slot_entry_attribute`). */
  slotEntryAttribute: string;
};

export type BoundSlot = { ok: true; attrs: JobAttrs } | { ok: false; reason: string };

export function bindSlot(slot: JobAttrs, b: PilotBinding, opts: BindSlotOptions): BoundSlot {
  const attrs: JobAttrs = { ...slot };
  for (const [name, value] of trustedSlotAttrs(b, opts.slotEntryAttribute)) {
    const sent = getAttr(attrs, name);
    const want = quote(value);
    if (sent !== undefined && sent.trim() !== want) {
      return {
        ok: false,
        reason: `slot ad's ${name} contradicts the pilot credential's binding (${want})`,
      };
    }
    setAttr(attrs, name, want);
  }
  if (b.startExpr !== undefined) {
    // Parsed alone first: a start_expr such as `true) || (true` must not escape its parentheses.
    try {
      parseExpression(b.startExpr);
    } catch {
      return { ok: false, reason: "the pilot credential's start_expr is not a ClassAd expression" };
    }
    const req = getAttr(attrs, SLOT.Requirements);
    // No Requirements never matches; leave it so rather than let start_expr alone admit jobs.
    if (req !== undefined) setAttr(attrs, SLOT.Requirements, `(${b.startExpr}) && (${req})`);
  }
  return { ok: true, attrs };
}

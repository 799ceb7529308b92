/**
 * A pilot's slot ad seen through its credential's PilotBinding, pure. The schedd trusts the
 * binding (signed by the frontend, or carried in a pilot token), not what the pilot writes about
 * itself: the binding's frontend, group, entry, site and factory replace the slot ad's values, a
 * slot ad that states different ones is refused (a payload holding a stolen credential is trying
 * to pass as another pilot), and the binding's start_expr is ANDed into the slot's Requirements so
 * only jobs the frontend admitted can match.
 */
import { parseExpression } from "../classad/index.js";
import type { PilotBinding } from "../security/pilot-binding.js";
import { getAttr, quote, setAttr, type JobAttrs } from "./job-status.js";

export type BindSlotOptions = {
  /** The slot attribute holding the entry name (`slot_entry_attribute`). */
  slotEntryAttribute: string;
};

export type BoundSlot = { ok: true; attrs: JobAttrs } | { ok: false; reason: string };

/** The trusted slot attributes a binding sets, and their values. */
export function trustedSlotAttrs(b: PilotBinding, opts: BindSlotOptions): [string, string][] {
  const out: [string, string][] = [
    ["GLIDEIN_Frontend", b.frontend],
    ["GLIDECLIENT_Group", b.group],
    ["GLIDECLIENT_Name", `${b.frontend}.${b.group}`],
    [opts.slotEntryAttribute, b.entry],
  ];
  if (b.site !== undefined) out.push(["GLIDEIN_Site", b.site]);
  if (b.factory !== undefined) out.push(["GLIDEIN_Factory", b.factory]);
  return out;
}

export function bindSlot(slot: JobAttrs, b: PilotBinding, opts: BindSlotOptions): BoundSlot {
  const attrs: JobAttrs = { ...slot };
  for (const [name, value] of trustedSlotAttrs(b, opts)) {
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
    const req = getAttr(attrs, "Requirements");
    // No Requirements never matches; leave it so rather than let start_expr alone admit jobs.
    if (req !== undefined) setAttr(attrs, "Requirements", `(${b.startExpr}) && (${req})`);
  }
  return { ok: true, attrs };
}

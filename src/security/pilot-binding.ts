/**
 * What a pilot's credential says the pilot is for: which frontend and group asked for it, which
 * factory entry (and site) runs it, its id, and the START expression the frontend granted. The
 * schedd trusts these, not the slot ad a pilot sends, so a payload that steals a pilot's
 * credential cannot claim jobs for another site, group or entry.
 *
 * The claim travels as JSON (`updraft.pilot` in a pilot token, or a proxy's policy), so it is
 * checked here as hostile input: an object with known keys only, strings only, bounded lengths,
 * and names restricted to a character set that is safe in ClassAds, logs and file names.
 */
import { SLOT } from "../ads/names.js";

export type PilotBinding = {
  frontend: string;
  group: string;
  entry: string;
  site?: string;
  factory?: string;
  pilotId?: string;
  startExpr?: string;
  /**
   * Seconds since the epoch: the frontend renews this pilot's token until then and no longer
   * (its first token's life plus the pilot's walltime). Absent: the token is not renewed.
   */
  renewUntil?: number;
};

/** The claim's name in a pilot token. */
export const PILOT_BINDING_CLAIM = "updraft.pilot";

/** Longest frontend, group, entry, site, factory name or pilot id. */
export const MAX_BINDING_NAME = 128;
/** Latest renew_until accepted (year 2100): a bound, not a policy. */
export const MAX_RENEW_UNTIL = 4_102_444_800;
/** Longest start_expr, in characters. */
export const MAX_BINDING_START_EXPR = 4096;

// Names as they appear in glideinWMS configuration (frontend and group names, entry names,
// GLIDEIN_Site values): letters, digits and a few separators; no spaces, quotes or slashes.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@:+-]*$/;
// A ClassAd expression: printable ASCII and spaces/tabs only (no newlines, NULs or escapes that
// could forge a log line).
const EXPR_RE = /^[\x20-\x7e\t]*$/;

const REQUIRED = ["frontend", "group", "entry"] as const;
const OPTIONAL = ["site", "factory", "pilot_id"] as const;
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL, "start_expr", "renew_until"]);

/**
 * Reads the `{"frontend","group","entry","site","factory","pilot_id","start_expr","renew_until"}`
 * claim.
 */
export function parsePilotBinding(claim: unknown): PilotBinding | { error: string } {
  if (typeof claim !== "object" || claim === null || Array.isArray(claim)) {
    return { error: "pilot binding: not a JSON object" };
  }
  const obj = claim as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!KNOWN.has(key)) return { error: `pilot binding: unknown key '${printable(key)}'` };
  }
  const out: Record<string, string> = {};
  for (const key of [...REQUIRED, ...OPTIONAL]) {
    const v = obj[key];
    if (v === undefined) {
      if ((REQUIRED as readonly string[]).includes(key)) {
        return { error: `pilot binding: '${key}' is missing` };
      }
      continue;
    }
    const bad = checkName(key, v);
    if (bad !== undefined) return { error: bad };
    out[key] = v as string;
  }
  const expr = obj["start_expr"];
  if (expr !== undefined) {
    if (typeof expr !== "string") return { error: "pilot binding: 'start_expr' is not a string" };
    if (expr.length > MAX_BINDING_START_EXPR) {
      return { error: `pilot binding: 'start_expr' is longer than ${MAX_BINDING_START_EXPR}` };
    }
    if (!EXPR_RE.test(expr)) {
      return { error: "pilot binding: 'start_expr' has characters other than printable ASCII" };
    }
    if (expr.trim() === "") return { error: "pilot binding: 'start_expr' is empty" };
  }
  const renewUntil = obj["renew_until"];
  if (renewUntil !== undefined) {
    if (!Number.isSafeInteger(renewUntil) || (renewUntil as number) <= 0) {
      return { error: "pilot binding: 'renew_until' is not a positive whole number of seconds" };
    }
    if ((renewUntil as number) > MAX_RENEW_UNTIL) {
      return { error: "pilot binding: 'renew_until' is beyond the year 2100" };
    }
  }
  const binding: PilotBinding = {
    frontend: out["frontend"]!,
    group: out["group"]!,
    entry: out["entry"]!,
  };
  if (out["site"] !== undefined) binding.site = out["site"];
  if (out["factory"] !== undefined) binding.factory = out["factory"];
  if (out["pilot_id"] !== undefined) binding.pilotId = out["pilot_id"];
  if (typeof expr === "string") binding.startExpr = expr;
  if (typeof renewUntil === "number") binding.renewUntil = renewUntil;
  return binding;
}

/** The claim's JSON shape for a binding: the inverse of `parsePilotBinding`. */
export function pilotBindingClaim(b: PilotBinding): Record<string, string | number> {
  const claim: Record<string, string | number> = {
    frontend: b.frontend,
    group: b.group,
    entry: b.entry,
  };
  if (b.site !== undefined) claim["site"] = b.site;
  if (b.factory !== undefined) claim["factory"] = b.factory;
  if (b.pilotId !== undefined) claim["pilot_id"] = b.pilotId;
  if (b.startExpr !== undefined) claim["start_expr"] = b.startExpr;
  if (b.renewUntil !== undefined) claim["renew_until"] = b.renewUntil;
  return claim;
}

export function isPilotBinding(v: PilotBinding | { error: string }): v is PilotBinding {
  return !("error" in v);
}

function checkName(key: string, v: unknown): string | undefined {
  if (typeof v !== "string") return `pilot binding: '${key}' is not a string`;
  if (v.length === 0) return `pilot binding: '${key}' is empty`;
  if (v.length > MAX_BINDING_NAME) {
    return `pilot binding: '${key}' is longer than ${MAX_BINDING_NAME}`;
  }
  if (!NAME_RE.test(v)) {
    return `pilot binding: '${key}' may hold only letters, digits and . _ @ : + - (starting with a letter or digit)`;
  }
  return undefined;
}

// Keys are echoed in errors (which reach logs); keep them short and printable.
function printable(s: string): string {
  return s.slice(0, 40).replace(/[^\x20-\x7e]/g, "?");
}

/** The slot attribute naming the pilot's entry unless a daemon is told otherwise. */
export const DEFAULT_SLOT_ENTRY_ATTRIBUTE: string = SLOT.EntryName;

/**
 * The slot attributes a binding decides, and their values: the schedd and the collector take
 * these from the credential and refuse a slot ad that states other ones.
 */
export function trustedSlotAttrs(
  b: PilotBinding,
  slotEntryAttribute = DEFAULT_SLOT_ENTRY_ATTRIBUTE,
): [string, string][] {
  const out: [string, string][] = [
    [SLOT.Frontend, b.frontend],
    [SLOT.ClientGroup, b.group],
    [SLOT.ClientName, `${b.frontend}.${b.group}`],
    [slotEntryAttribute, b.entry],
  ];
  if (b.site !== undefined) out.push([SLOT.Site, b.site]);
  if (b.factory !== undefined) out.push([SLOT.Factory, b.factory]);
  return out;
}

/**
 * Match-time macros, as HTCondor's schedd expands them when a job is handed to a slot:
 * `$$(Attr)`, `$$(Attr:default)` and `$$([expression])` in any job attribute are filled from the
 * claiming slot's ad. Pure: the queue stores `persisted` and hands the pilot the ad with `expanded` too.
 *
 * - `MATCH_<Attr>` keeps each slot value used (as the slot ad wrote it), `MATCH_EXP_<attr>` each
 *   expanded attribute, so history and accounting see where the job ran.
 * - The stored ad keeps its `$$(...)` forms: a job that runs again is expanded again against
 *   the new slot, as HTCondor does.
 * - A macro the slot cannot fill and that has no default holds the job ("Cannot expand $$
 *   expression (Attr).").
 * - glideinWMS schedds add `JOB_GLIDEIN_Site = "$$(GLIDEIN_Site:Unknown)"` and friends to every
 *   job (SUBMIT_ATTRS); `GLIDEIN_JOB_ATTRS` plays that part, so `MATCH_EXP_JOB_GLIDEIN_Site`,
 *   which CMS accounting reads, is recorded for every job.
 */
import { ClassAd, parseExpression, tryParse, type Expr } from "../classad/index.js";
import { lowerName, quote, type JobAttrs } from "./job-status.js";
import { SLOT } from "../ads/names.js";

/** The attributes a glideinWMS schedd adds to each job, each `"$$(<slot attr>:Unknown)"`. */
export const GLIDEIN_JOB_ATTRS: readonly (readonly [string, string])[] = [
  ["JOB_Site", SLOT.Site],
  ["JOB_GLIDEIN_Site", SLOT.Site],
  ["JOB_GLIDEIN_Name", SLOT.GlideinName],
  ["JOB_GLIDEIN_Factory", SLOT.Factory],
  ["JOB_GLIDEIN_Entry_Name", SLOT.EntryName],
  ["JOB_GLIDEIN_Schedd", "GLIDEIN_Schedd"],
  ["JOB_GLIDEIN_ClusterId", "GLIDEIN_ClusterId"],
  ["JOB_GLIDEIN_ProcId", "GLIDEIN_ProcId"],
  ["JOB_GLIDEIN_SiteWMS", "GLIDEIN_SiteWMS"],
  ["JOB_GLIDEIN_SiteWMS_Slot", "GLIDEIN_SiteWMS_Slot"],
  ["JOB_GLIDEIN_SiteWMS_JobId", "GLIDEIN_SiteWMS_JobId"],
  ["JOB_GLIDEIN_SiteWMS_Queue", "GLIDEIN_SiteWMS_Queue"],
  ["JOB_GLIDECLIENT_Name", SLOT.ClientName],
];

/** Bounds against a slot ad or a job built to blow up the expansion. */
export const MAX_MACROS_PER_ATTR = 64;
export const MAX_EXPANDED_CHARS = 64 * 1024;

export type MatchExpansion =
  | {
      ok: true;
      /**
       * Attributes to store on the job: MATCH_<Attr> and MATCH_EXP_<attr>, named as the job
       * already spells them when it has them (a requeued job does), so they can be set as is.
       */
      persisted: [string, string][];
      /**
       * The job's own attributes with their `$$(...)` filled: the pilot gets the stored ad with
       * `persisted` and then these (empty when the job has no macro of its own).
       */
      expanded: [string, string][];
    }
  | { ok: false; holdReason: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Expand every `$$(...)` of a job against the claiming slot's attributes. */
export function expandMatchTime(job: JobAttrs, slotAttrs: JobAttrs, slot: ClassAd): MatchExpansion {
  // Names are case-insensitive: one index of each ad instead of a scan per name looked up.
  const jobNames = new Map<string, string>();
  for (const name in job) jobNames.set(lowerName(name), name);
  const work: [string, string][] = [];
  for (const name in job) {
    if (job[name]!.includes("$$(") && !lowerName(name).startsWith("match_")) {
      work.push([name, job[name]!]);
    }
  }
  const persisted = new Map<string, [string, string]>();
  const put = (name: string, text: string) => {
    const lower = lowerName(name);
    persisted.set(lower, [jobNames.get(lower) ?? name, text]);
  };
  const known = slotIndex(slot, slotAttrs);
  const ctx: Context = { job, slot, slotValues: known.values, used: put };
  const expanded: [string, string][] = [];
  for (const [name, text] of work) {
    const r = expandAttr(text, ctx);
    if (!r.ok) return { ok: false, holdReason: `Cannot expand $$ expression (${r.macro}).` };
    put(`MATCH_EXP_${name}`, r.text);
    expanded.push([name, r.text]);
  }
  // The glideinWMS defaults the job does not set itself depend on the slot alone.
  for (const d of known.glideinDefaults) {
    if (jobNames.has(d.lowerName)) continue;
    if (!d.result.ok)
      return { ok: false, holdReason: `Cannot expand $$ expression (${d.result.macro}).` };
    if (d.used !== undefined) put(d.used[0], d.used[1]);
    put(d.matchExpName, d.result.text);
  }
  return { ok: true, persisted: [...persisted.values()], expanded };
}

/** What a slot ad gives every job, worked out once per slot ad. */
interface SlotIndex {
  /** The slot's expression texts by lower-case name. */
  values: Map<string, string>;
  /** Each GLIDEIN_JOB_ATTRS default expanded against the slot. */
  glideinDefaults: {
    lowerName: string;
    matchExpName: string;
    /** Fails only for a slot value past MAX_EXPANDED_CHARS. */
    result: Expanded;
    /** The MATCH_<Attr> the expansion records, when the slot has the attribute. */
    used?: [string, string];
  }[];
}

/**
 * Kept with the parsed slot ad: the queue keeps one parsed ad per distinct slot ad, so claim
 * after claim from one pilot reuses it.
 */
const slotIndexes = new WeakMap<ClassAd, SlotIndex>();

function slotIndex(slot: ClassAd, slotAttrs: JobAttrs): SlotIndex {
  let index = slotIndexes.get(slot);
  if (index !== undefined) return index;
  const values = new Map<string, string>();
  for (const name in slotAttrs) values.set(lowerName(name), slotAttrs[name]!);
  index = { values, glideinDefaults: [] };
  for (const [name, slotAttr] of GLIDEIN_JOB_ATTRS) {
    let used: [string, string] | undefined;
    const ctx: Context = { job: {}, slot, slotValues: values, used: (n, t) => (used = [n, t]) };
    const result = expandAttr("", ctx, `$$(${slotAttr}:Unknown)`);
    index.glideinDefaults.push({
      lowerName: lowerName(name),
      matchExpName: `MATCH_EXP_${name}`,
      result,
      used,
    });
  }
  slotIndexes.set(slot, index);
  return index;
}

interface Context {
  job: JobAttrs;
  /** The slot's expression texts by lower-case name. */
  slotValues: Map<string, string>;
  /** The same slot ad, parsed. */
  slot: ClassAd;
  used(name: string, text: string): void;
  /** The job's ad, parsed only when a `$$([...])` needs it. */
  jobAd?: ClassAd;
}

type Expanded = { ok: true; text: string } | { ok: false; macro: string };

/**
 * One attribute: a string literal is expanded inside its value and quoted again (a slot value
 * cannot end the string early); any other expression is expanded as text and must still parse.
 */
function expandAttr(text: string, ctx: Context, known?: string): Expanded {
  let literal = known;
  if (literal === undefined) {
    const parsed = tryParse(() => parseExpression(text));
    literal = parsed.ok ? stringOf(parsed.value) : undefined;
  }
  if (literal !== undefined) {
    const r = expandText(literal, ctx, false);
    return r.ok ? { ok: true, text: quote(r.text) } : r;
  }
  const r = expandText(text, ctx, true);
  if (!r.ok) return r;
  return tryParse(() => parseExpression(r.text)).ok ? r : { ok: false, macro: firstMacro(text) };
}

function stringOf(e: Expr): string | undefined {
  return e.kind === "literal" && typeof e.value === "string" ? e.value : undefined;
}

function expandText(text: string, ctx: Context, inExpression: boolean): Expanded {
  let out = "";
  let pos = 0;
  for (let n = 0; ; n++) {
    const at = text.indexOf("$$(", pos);
    if (at < 0) break;
    const end = closingParen(text, at + 3);
    const body = end < 0 ? "" : text.slice(at + 3, end);
    if (end < 0 || n >= MAX_MACROS_PER_ATTR) return { ok: false, macro: body || text.slice(at) };
    const value = macroValue(body, ctx, inExpression);
    if (value === undefined) return { ok: false, macro: body };
    out += text.slice(pos, at) + value;
    pos = end + 1;
    if (out.length > MAX_EXPANDED_CHARS) return { ok: false, macro: body };
  }
  out += text.slice(pos);
  return out.length > MAX_EXPANDED_CHARS
    ? { ok: false, macro: firstMacro(text) }
    : { ok: true, text: out };
}

/** The `)` closing a macro opened before `from`, skipping nested parentheses and strings. */
function closingParen(text: string, from: number): number {
  let depth = 1;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

function firstMacro(text: string): string {
  const at = text.indexOf("$$(");
  const end = closingParen(text, at + 3);
  return end < 0 ? text.slice(at) : text.slice(at + 3, end);
}

/** The text a macro stands for, or undefined when the slot cannot fill it. */
function macroValue(body: string, ctx: Context, inExpression: boolean): string | undefined {
  if (body.startsWith("[") && body.endsWith("]")) {
    const inner = body.slice(1, -1);
    return evaluated(inExpression ? inner.replace(/\\(["\\])/g, "$1") : inner, ctx);
  }
  const colon = body.indexOf(":");
  const name = colon < 0 ? body : body.slice(0, colon);
  const fallback = colon < 0 ? undefined : body.slice(colon + 1);
  if (!NAME.test(name)) return undefined;
  if (lowerName(name) === "dollardollar") return "$$";
  const text = ctx.slotValues.get(lowerName(name));
  if (text === undefined) return fallback;
  ctx.used(`MATCH_${name}`, text);
  if (!text.startsWith('"')) return text;
  const parsed = tryParse(() => parseExpression(text));
  return (parsed.ok ? stringOf(parsed.value) : undefined) ?? text;
}

/** `$$([expr])`: `string(expr)` with the job as MY and the slot as TARGET. */
function evaluated(expr: string, ctx: Context): string | undefined {
  if (ctx.jobAd === undefined) {
    const ad = new ClassAd();
    for (const name in ctx.job) {
      if (!ctx.job[name]!.includes("$$(")) ad.set(name, ctx.job[name]!);
    }
    ctx.jobAd = ad;
  }
  const probe = tryParse(() => parseExpression(`string(${expr})`));
  if (!probe.ok) return undefined;
  ctx.jobAd.set("InternalDDExpr", probe.value);
  const v = ctx.jobAd.evaluate("InternalDDExpr", ctx.slot);
  return typeof v === "string" ? v : undefined;
}

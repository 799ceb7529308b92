/**
 * The VO attributes a pilot gets, pure: the frontend's (from its GlideClient ad, hostile input
 * checked here) merged with the entry's, as glideinWMS merges them: an entry attribute marked
 * `const` wins, a non-const one is a default the frontend's attribute of the same name replaces.
 * The pilot receives the list in one environment variable, never as variables named by the
 * frontend (a name like LD_PRELOAD or NODE_OPTIONS must not reach the pilot's own process).
 */
import {
  type AttrDropReason,
  attrNameProblem,
  attrProblems,
  attrValueProblem,
  GLIDEIN_ATTR_LIMITS,
  isReservedAttrName,
  type GlideinAttr,
  type GlideinAttrType,
} from "../ads/glidein-attrs.js";
import { GLIDEIN_PARAM, type ReadGlideClient } from "../ads/index.js";
import { VO_BUNDLE_SHA256_PARAM, VO_BUNDLE_URL_PARAM } from "../common/vo-bundle.js";

/** Parameters the frontend sets itself; they reach the pilot as its settings, not as attributes. */
export const SYSTEM_PARAMS: ReadonlySet<string> = new Set([
  ...Object.values(GLIDEIN_PARAM),
  // The frontend's VO script bundle: its URL and manifest hash, checked in client-requests.ts.
  VO_BUNDLE_URL_PARAM,
  VO_BUNDLE_SHA256_PARAM,
]);

export interface ClientAttrs {
  system: Record<string, string>;
  attrs: GlideinAttr[];
  /** Attributes dropped, with why; the request itself is still served. */
  problems: string[];
  /** Why each dropped attribute was dropped, one reason per attribute, for the metrics. */
  dropped: AttrDropReason[];
}

/** The store counter (per entry and client) of attributes dropped for `reason`. */
export function attrsDroppedCounter(reason: AttrDropReason): string {
  return `attrs_dropped:${reason}`;
}

/** The reason an attribute with problems is dropped: its name first, then its value. */
function dropReason(a: GlideinAttr): AttrDropReason {
  if (attrNameProblem(a.name)) return isReservedAttrName(a.name) ? "reserved_name" : "bad_name";
  return attrValueProblem(a.type, a.value) ? "bad_value" : "bad_type";
}

/** Splits a GlideClient ad's parameters into the frontend's settings and its VO attributes. */
export function readClientAttrs(r: ReadGlideClient): ClientAttrs | { tooMany: number } {
  const system: Record<string, string> = {};
  const attrs: GlideinAttr[] = [];
  const problems: string[] = [];
  const dropped: AttrDropReason[] = [];
  const lower = (xs: string[] | undefined) => new Set((xs ?? []).map((x) => x.toLowerCase()));
  const exprs = lower(r.exprAttrs);
  const publish = lower(r.publishAttrs);
  const job = lower(r.jobPublishAttrs);
  const entries = Object.entries(r.params);
  const candidates = entries.filter(([k]) => !SYSTEM_PARAMS.has(k));
  if (candidates.length > GLIDEIN_ATTR_LIMITS.count) return { tooMany: candidates.length };
  for (const [name, v] of entries) {
    if (SYSTEM_PARAMS.has(name)) {
      system[name] = String(v);
      continue;
    }
    const key = name.toLowerCase();
    const type: GlideinAttrType | undefined = exprs.has(key)
      ? "expr"
      : typeof v === "number"
        ? "int"
        : typeof v === "string"
          ? "string"
          : undefined;
    if (type === undefined || typeof v === "boolean") {
      problems.push(`${name.slice(0, 80)}: not a string, an integer or expression text`);
      dropped.push("bad_type");
      continue;
    }
    const a: GlideinAttr = { name, type, value: v, publish: publish.has(key), job: job.has(key) };
    const p = attrProblems(a);
    if (p.length) {
      problems.push(...p);
      dropped.push(dropReason(a));
    } else attrs.push(a);
  }
  return { system, attrs, problems, dropped };
}

/** An entry attribute as the factory's configuration gives it. */
export interface EntryAttr {
  value: string | number | boolean;
  type: string;
  to_pilot: boolean;
  const: boolean;
  glidein_publish: boolean;
  job_publish: boolean;
}

export interface MergedAttrs {
  /** For the pilot's PILOT_ATTRS_ENV. */
  attrs: GlideinAttr[];
  /** The entry's `to_pilot` attributes, each as a variable of its name (the factory's own names). */
  env: Record<string, string>;
  /** Frontend attributes a const entry attribute kept out. */
  keptConst: string[];
}

export function mergePilotAttrs(
  entry: Readonly<Record<string, EntryAttr>>,
  client: readonly GlideinAttr[],
): MergedAttrs {
  const fromClient = new Map(client.map((a) => [a.name.toLowerCase(), a]));
  const out = new Map<string, GlideinAttr>();
  const env: Record<string, string> = {};
  const keptConst: string[] = [];
  for (const [name, e] of Object.entries(entry)) {
    const key = name.toLowerCase();
    const theirs = fromClient.get(key);
    if (theirs && e.const) keptConst.push(theirs.name);
    const wins = theirs !== undefined && !e.const ? theirs : undefined;
    if (e.to_pilot) env[name] = String(wins?.value ?? e.value);
    if (wins) continue;
    if (e.glidein_publish || e.job_publish) {
      const type = e.type === "expr" ? "expr" : e.type === "int" ? "int" : "string";
      out.set(key, {
        name,
        type,
        value: typeof e.value === "boolean" ? String(e.value) : e.value,
        publish: e.glidein_publish,
        job: e.job_publish,
      });
    }
  }
  const constNames = new Set(keptConst.map((n) => n.toLowerCase()));
  for (const [key, a] of fromClient) if (!constNames.has(key)) out.set(key, a);
  return { attrs: [...out.values()], env, keptConst };
}

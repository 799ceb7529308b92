/**
 * Attributes a VO gives its pilots (glideinWMS's `attrs`): named values the frontend or a factory
 * entry sends down to the pilot, which publishes them on its Slot ad (`publish`) and exports them
 * to its jobs' environment (`job`). They cross three daemons, so every hop checks them with the
 * same rules: a ClassAd identifier of bounded length, a bounded value of its declared type, a
 * bounded count, and never a name the system sets itself (an attribute may not pass for the
 * pilot's site, entry, group, identity or accounting).
 */
import { parseExpression, tryParse } from "../classad/index.js";
import { SLOT, COMMON, GLIDEIN_PARAM } from "./names.js";

export const GLIDEIN_ATTR_TYPES = ["string", "int", "expr"] as const;
export type GlideinAttrType = (typeof GLIDEIN_ATTR_TYPES)[number];

export interface GlideinAttr {
  name: string;
  type: GlideinAttrType;
  /** A string, an integer, or (type expr) ClassAd expression text. */
  value: string | number;
  /** Published on the pilot's Slot ad. */
  publish: boolean;
  /** Exported to each job's environment as NAME=value. */
  job: boolean;
}

/** The environment variable the factory hands the list to the pilot in. */
export const PILOT_ATTRS_ENV = "UPDRAFT_GLIDEIN_ATTRS";

export const GLIDEIN_ATTR_LIMITS = {
  /** Attributes per pilot, all levels together. */
  count: 64,
  nameLength: 64,
  /** Characters of one value (a string's text, an expression's text). */
  valueLength: 4096,
  /** Characters of the encoded list handed to the pilot. */
  encodedLength: 64 * 1024,
} as const;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names the system sets on a pilot or its ad, compared without case as ClassAd names are: the
 * Slot ad's own accounting, what the factory and frontend stamp (site, entry, factory, client,
 * group), the pilot's parameters, and what every job's environment must keep.
 */
const RESERVED = new Set(
  [
    ...Object.values(SLOT),
    ...Object.values(COMMON),
    ...Object.values(GLIDEIN_PARAM),
    "MyType",
    "TargetType",
    "Rank",
    "GLIDEIN_Client",
    "GLIDEIN_Start",
    "GLIDEIN_Retire_Time_Spread",
    "GLIDEIN_Max_Tail",
    "GLIDEIN_BLACKHOLE_NUMJOBS",
    "GLIDEIN_BLACKHOLE_RATE",
    "GLIDEIN_CPUS",
    "GLIDEIN_MaxMemMBs",
    "GLIDEIN_GPUS",
    "GLIDEIN_TrustDomain",
    "GLIDEIN_Security_Class",
    "PubKeyID",
    "PubKeyValue",
    // A job's environment: its scratch directory, credentials and search paths stay the pilot's.
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "SHELL",
    "TMPDIR",
    "TMP",
    "TEMP",
    "BEARER_TOKEN",
    "BEARER_TOKEN_FILE",
    "MACHINEFEATURES",
    "JOBFEATURES",
  ].map((n) => n.toLowerCase()),
);
/** Prefixes of system names: the project's own settings, HTCondor's, the loader's and Node's. */
const RESERVED_PREFIXES = ["updraft_", "glideclient_", "_condor_", "x509_", "ld_", "node_"];

/** True when `name` is one the system sets itself (any case). */
export function isReservedAttrName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || RESERVED_PREFIXES.some((p) => lower.startsWith(p));
}

/** Why `name` may not be an attribute, or undefined when it may. */
export function attrNameProblem(name: string): string | undefined {
  if (name.length > GLIDEIN_ATTR_LIMITS.nameLength) {
    return `longer than ${GLIDEIN_ATTR_LIMITS.nameLength} characters`;
  }
  if (!IDENTIFIER.test(name)) return "not a ClassAd name (a letter or _, then letters, digits, _)";
  if (isReservedAttrName(name)) return "a name the system sets itself";
  return undefined;
}

/**
 * The problems of a configuration's attribute names, each with its name: a name that may not be
 * an attribute (checked where `mustBeValid` says so, as for published ones) and a second spelling
 * of a name already seen (ClassAd names ignore case: the two would be one attribute on every ad).
 */
export function attrNameIssues(
  names: readonly string[],
  mustBeValid: (name: string) => boolean = () => true,
): { name: string; message: string }[] {
  const issues: { name: string; message: string }[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const problem = mustBeValid(name) ? attrNameProblem(name) : undefined;
    if (problem) issues.push({ name, message: problem });
    const other = seen.get(name.toLowerCase());
    if (other !== undefined) {
      issues.push({ name, message: `the same ClassAd name as ${other} (names ignore case)` });
    }
    seen.set(name.toLowerCase(), name);
  }
  return issues;
}

/** Why the factory drops a frontend's attribute, as its metrics count them. */
export const ATTR_DROP_REASONS = ["reserved_name", "bad_name", "bad_type", "bad_value"] as const;
export type AttrDropReason = (typeof ATTR_DROP_REASONS)[number];

/** Why `value` does not fit `type`, or undefined when it does. */
export function attrValueProblem(type: GlideinAttrType, value: unknown): string | undefined {
  if (type === "int") {
    return typeof value === "number" && Number.isSafeInteger(value)
      ? undefined
      : "type int needs a whole number";
  }
  if (typeof value !== "string") return `type ${type} needs a string value`;
  if (value.length > GLIDEIN_ATTR_LIMITS.valueLength) {
    return `value longer than ${GLIDEIN_ATTR_LIMITS.valueLength} characters`;
  }
  // Values become environment variables and A-REX job descriptions, neither of which holds a
  // NUL: one would fail every job's start on the pilot or every submission of the request.
  if (value.includes("\0")) return "value holds a NUL character";
  if (type === "expr") {
    const parsed = tryParse(() => parseExpression(value));
    if (!parsed.ok) return `bad ClassAd expression at column ${parsed.error.column}`;
  }
  return undefined;
}

/** Every problem of one attribute, prefixed with its name. */
export function attrProblems(a: GlideinAttr): string[] {
  const out: string[] = [];
  const name = attrNameProblem(a.name);
  if (name) out.push(`${a.name.slice(0, 80)}: ${name}`);
  const value = attrValueProblem(a.type, a.value);
  if (value) out.push(`${a.name.slice(0, 80)}: ${value}`);
  return out;
}

/** The list as the factory hands it to the pilot: JSON, one object per attribute. */
export function encodeGlideinAttrs(attrs: readonly GlideinAttr[]): string {
  return JSON.stringify(
    attrs.map((a) => ({ n: a.name, t: a.type, v: a.value, p: a.publish, j: a.job })),
  );
}

export type DecodeResult = { ok: true; attrs: GlideinAttr[] } | { ok: false; problems: string[] };

/** The pilot's reading of `encodeGlideinAttrs`: bounded and checked, all or nothing. */
export function decodeGlideinAttrs(text: string): DecodeResult {
  if (text.length > GLIDEIN_ATTR_LIMITS.encodedLength) {
    return { ok: false, problems: [`longer than ${GLIDEIN_ATTR_LIMITS.encodedLength} characters`] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problems: ["not JSON"] };
  }
  if (!Array.isArray(raw)) return { ok: false, problems: ["not a list"] };
  if (raw.length > GLIDEIN_ATTR_LIMITS.count) {
    return { ok: false, problems: [`more than ${GLIDEIN_ATTR_LIMITS.count} attributes`] };
  }
  const attrs: GlideinAttr[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const item of raw as unknown[]) {
    const o = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const type = GLIDEIN_ATTR_TYPES.find((t) => t === o.t);
    if (typeof o.n !== "string" || type === undefined) {
      problems.push("an attribute without a name or a known type");
      continue;
    }
    const a: GlideinAttr = {
      name: o.n,
      type,
      value: o.v as string | number,
      publish: o.p === true,
      job: o.j === true,
    };
    const p = attrProblems(a);
    if (seen.has(a.name.toLowerCase())) p.push(`${a.name}: given twice`);
    seen.add(a.name.toLowerCase());
    if (p.length) problems.push(...p);
    else attrs.push(a);
  }
  return problems.length ? { ok: false, problems } : { ok: true, attrs };
}

/** One attribute as `name=value [where]`, for the CLI: strings quoted, expressions in (). */
export function describeGlideinAttr(a: GlideinAttr): string {
  const value =
    a.type === "string"
      ? JSON.stringify(a.value)
      : a.type === "expr"
        ? `(${String(a.value)})`
        : String(a.value);
  const where = [...(a.publish ? ["slot"] : []), ...(a.job ? ["job"] : [])];
  return `${a.name}=${value}${where.length ? ` [${where.join(",")}]` : ""}`;
}

/** The VO attributes a read GlideClient ad carries (its other parameters are the system's). */
export function glideClientAttrs(r: {
  params: Readonly<Record<string, string | number | boolean>>;
  exprAttrs?: readonly string[];
  publishAttrs?: readonly string[];
  jobPublishAttrs?: readonly string[];
}): GlideinAttr[] {
  const has = (xs: readonly string[] | undefined, n: string) =>
    (xs ?? []).some((x) => x.toLowerCase() === n.toLowerCase());
  const out: GlideinAttr[] = [];
  for (const [name, v] of Object.entries(r.params)) {
    if (attrNameProblem(name) !== undefined || typeof v === "boolean") continue;
    out.push({
      name,
      type: has(r.exprAttrs, name) ? "expr" : typeof v === "number" ? "int" : "string",
      value: v,
      publish: has(r.publishAttrs, name),
      job: has(r.jobPublishAttrs, name),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

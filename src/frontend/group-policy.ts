/**
 * A group's effective policy: the global `match` section and-ed with the group's own, compiled
 * once, and the attributes the expressions read (`match_attrs`), derived when not configured.
 */
import {
  type CompiledExpr,
  type Expr,
  compileExpression,
  parseExpression,
  references,
} from "../classad/index.js";
import { SELF_BASES, selectedNames, TARGET_BASES } from "./expr-walk.js";
import type { GlideinAttr } from "../ads/glidein-attrs.js";
import type {
  AttrConfig,
  CredentialConfig,
  FrontendConfig,
  GroupConfig,
  GroupLimits,
  MatchConfig,
} from "./config.js";

/** An attribute as the group sends it, and where it was set. */
export interface GroupAttr extends GlideinAttr {
  /** Sent to the factory; otherwise shown only. */
  parameter: boolean;
  from: "frontend" | "group";
}

export interface MatchAttrs {
  /** Job attributes (MY) the match expression reads; lower-case, sorted. */
  readonly job: readonly string[];
  /** Entry attributes (TARGET) it reads; lower-case, sorted. */
  readonly factory: readonly string[];
}

export interface GroupPolicy {
  readonly name: string;
  readonly matchText: string;
  readonly match: CompiledExpr;
  readonly startText: string;
  readonly jobQuery: CompiledExpr;
  readonly factoryQuery: CompiledExpr;
  readonly matchAttrs: MatchAttrs;
  readonly limits: GroupLimits;
  /** The frontend's attributes with the group's over them, by name (sorted). */
  readonly attrs: readonly GroupAttr[];
  /** The group's pilot lifetimes over the frontend's, key by key (unset: the frontend's). */
  readonly pilot: GroupConfig["pilot"];
  /** Schedds whose jobs the group serves; undefined: every schedd of the frontend. */
  readonly schedds?: readonly string[];
  /** Names of the credentials the group may send, in order; undefined: all of the frontend's. */
  readonly credentials?: readonly string[];
  /** How a group uses several credentials of one trust domain (`first` without `security`). */
  readonly selection: "first" | "all" | "round_robin";
}

/** The frontend's pilot lifetimes with a group's over them. */
export function pilotLifetimes(
  config: FrontendConfig,
  policy: Pick<GroupPolicy, "pilot">,
): FrontendConfig["pilot"] {
  const out = { ...config.pilot };
  for (const [k, v] of Object.entries(policy.pilot ?? {})) {
    if (v !== undefined) out[k as keyof typeof out] = v;
  }
  return out;
}

/** The credentials a group may send, from the frontend's, in the group's order. */
export function groupCredentials(
  config: FrontendConfig,
  policy: Pick<GroupPolicy, "credentials">,
): CredentialConfig[] {
  const all = config.security.credentials;
  if (!policy.credentials) return [...all];
  return policy.credentials
    .map((n) => all.find((c) => c.name === n))
    .filter((c): c is CredentialConfig => c !== undefined);
}

/** Frontend-level attributes, then the group's over them (names compared without case). */
export function mergeAttrs(
  frontend: Readonly<Record<string, AttrConfig>>,
  group: Readonly<Record<string, AttrConfig>>,
): GroupAttr[] {
  const byName = new Map<string, GroupAttr>();
  const put = (attrs: Readonly<Record<string, AttrConfig>>, from: GroupAttr["from"]) => {
    for (const [name, a] of Object.entries(attrs)) {
      byName.set(name.toLowerCase(), {
        name,
        type: a.type,
        value: a.value,
        publish: a.glidein_publish,
        job: a.job_publish,
        parameter: a.parameter,
        from,
      });
    }
  };
  put(frontend, "frontend");
  put(group, "group");
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** `a && b`, dropping a literal `true` side so single-level configs print as written. */
function andExprs(global: string, own: string): string {
  const g = global.trim();
  const o = own.trim();
  if (g === "true") return o;
  if (o === "true") return g;
  return `(${g}) && (${o})`;
}

/**
 * The attributes a match expression reads (job as MY, entry as TARGET). An unscoped name is
 * looked up in the job first and then the entry, so it belongs to both lists.
 */
export function deriveMatchAttrs(matchExpr: string | Expr): MatchAttrs {
  const expr = typeof matchExpr === "string" ? parseExpression(matchExpr) : matchExpr;
  const explicitTarget = new Set<string>();
  const external = new Set<string>();
  const mine = new Set<string>();
  selectedNames(expr, SELF_BASES, mine);
  // With no owner ad, references() reports TARGET.x and unscoped names together as external;
  // the explicit TARGET selections tell them apart.
  for (const n of references(expr, null).external) external.add(n);
  selectedNames(expr, TARGET_BASES, explicitTarget);
  const job = new Set([...mine, ...[...external].filter((n) => !explicitTarget.has(n))]);
  const factory = new Set([...external]);
  return { job: [...job].sort(), factory: [...factory].sort() };
}

/** Configured match_attrs when given (lower-cased), else derived from the match expression. */
function matchAttrsOf(group: GroupConfig, global: MatchConfig, matchText: string): MatchAttrs {
  const derived = deriveMatchAttrs(matchText);
  const given = group.match_attrs ?? global.match_attrs;
  if (given === undefined) return derived;
  const lower = (xs: readonly string[] | undefined, fallback: readonly string[]) =>
    xs === undefined ? fallback : [...new Set(xs.map((x) => x.toLowerCase()))].sort();
  return { job: lower(given.job, derived.job), factory: lower(given.factory, derived.factory) };
}

/** The effective policy of one group (global match section and-ed in). */
export function groupPolicy(
  group: GroupConfig,
  global?: MatchConfig,
  frontendAttrs: Readonly<Record<string, AttrConfig>> = {},
): GroupPolicy {
  const g: MatchConfig = global ?? {
    match_expr: "true",
    start_expr: "true",
    factory_query_expr: "true",
    job_query_expr: "true",
  };
  const matchText = andExprs(g.match_expr, group.match_expr);
  return {
    name: group.name,
    matchText,
    match: compileExpression(matchText),
    startText: andExprs(g.start_expr, group.start_expr),
    jobQuery: compileExpression(andExprs(g.job_query_expr, group.job_query_expr)),
    factoryQuery: compileExpression(andExprs(g.factory_query_expr, group.factory_query_expr)),
    matchAttrs: matchAttrsOf(group, g, matchText),
    limits: group.limits,
    attrs: mergeAttrs(frontendAttrs, group.attrs ?? {}),
    pilot: group.pilot,
    ...(group.schedds ? { schedds: group.schedds } : {}),
    ...(group.security ? { credentials: group.security.credentials } : {}),
    selection: group.security?.selection ?? "first",
  };
}

/** Every enabled group's policy. */
export function groupPolicies(config: FrontendConfig): GroupPolicy[] {
  return config.groups
    .filter((g) => g.enabled)
    .map((g) => groupPolicy(g, config.match, config.attrs));
}

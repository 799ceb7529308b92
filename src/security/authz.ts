/**
 * Authorization: verified identities mapped to roles. A certificate identity (slash-form DN) or a
 * token identity (`<iss>#<sub>`) matches rules by exact value or patterns (`*` within one name
 * component, stopping at `/`; `**` across components); a bearer token
 * also matches rules on its issuer, `sub`, `wlcg.groups` and `scope`. A valid identity no rule
 * names gets `default_roles` (read only unless configured). Each RPC declares the roles that may
 * call it; the wire layer asks `rolesFor` once per connection.
 */
import { z } from "zod";

export const ROLES = [
  "admin",
  "read",
  "user",
  "pilot",
  "frontend",
  "factory",
  "daemon",
  "monitor",
] as const;
export type Role = (typeof ROLES)[number];

/**
 * One rule: either `identity` (an exact identity, or a pattern where `*` matches any run of
 * characters without a `/`, so `/DC=org/CN=*` does not admit `/DC=org/CN=x/CN=y`, and `**` any
 * run including `/`), or `issuer` for bearer tokens from that issuer, narrowed by
 * `sub` (exact or `*` pattern), `group` (one of the token's `wlcg.groups`, exactly) and `scope`
 * (a scope the token grants). Every condition a rule names must hold.
 */
export interface AuthzRule {
  identity?: string | undefined;
  issuer?: string | undefined;
  sub?: string | undefined;
  group?: string | undefined;
  scope?: string | undefined;
  roles: Role[];
}

/** What a verified bearer token says about its holder, for token rules. */
export interface TokenFacts {
  issuer: string;
  sub: string;
  groups: readonly string[];
  scopes: readonly string[];
}

export interface AuthzConfig {
  rules: AuthzRule[];
  /** Roles for a valid identity that no rule matches. Default `["read"]`. */
  default_roles?: Role[];
}

/** The YAML/JSON shape of AuthzConfig, for daemons' config schemas. */
export const authzConfigSchema = z
  .object({
    rules: z
      .array(
        z
          .object({
            identity: z
              .string()
              .min(1)
              .refine(
                (v) => v === "**" || v.startsWith("/") || /^https:\/\/[^#]+#./.test(v),
                "an identity is a slash-form DN like /DC=org/CN=x, a token's <issuer>#<sub>, or ** for all",
              )
              .optional(),
            issuer: z
              .string()
              .url()
              .startsWith("https://", "a token issuer is an https URL")
              .optional(),
            sub: z.string().min(1).max(256).optional(),
            group: z.string().min(1).max(256).optional(),
            scope: z.string().min(1).max(256).optional(),
            roles: z.array(z.enum(ROLES)).min(1),
          })
          .strict()
          .superRefine((r, ctx) => {
            if ((r.identity === undefined) === (r.issuer === undefined)) {
              ctx.addIssue({
                code: "custom",
                message: "a rule names either an identity or a token issuer (not both)",
              });
            }
            if (r.identity !== undefined && (r.sub ?? r.group ?? r.scope) !== undefined) {
              ctx.addIssue({
                code: "custom",
                message: "sub, group and scope go with issuer, not identity",
              });
            }
          }),
      )
      .default([]),
    default_roles: z.array(z.enum(ROLES)).optional(),
  })
  .strict();

export interface Authorizer {
  /** Roles of a verified identity; `token` is given when a bearer token authenticated it. */
  rolesFor(identity: string, token?: TokenFacts): ReadonlySet<Role>;
  /** True when `identity` holds at least one of `allowed`. */
  allows(identity: string, allowed: readonly Role[], token?: TokenFacts): boolean;
  /**
   * The scopes of the token rules that `token` meets in all but scope: any one of them would
   * give it a role, so a refusal can name them.
   */
  scopesGranting(token: TokenFacts): string[];
}

type Matcher = (value: string) => boolean;

interface CompiledRule {
  identity: Matcher | undefined;
  issuer: string | undefined;
  sub: Matcher | undefined;
  group: string | undefined;
  scope: string | undefined;
  roles: Role[];
}

/**
 * An identity pattern as authorization rules write it: exact, or with `*` matching a run of
 * characters without a `/` and `**` any run; other tables of identities use it too.
 */
export function identityMatcher(pattern: string): Matcher {
  if (!pattern.includes("*")) return (v) => v === pattern;
  const escape = (part: string) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const body = pattern
    .split("**")
    .map((span) => span.split("*").map(escape).join("[^/]*"))
    .join(".*");
  const re = new RegExp(`^${body}$`);
  return (v) => re.test(v);
}

function compile(rule: AuthzRule): CompiledRule {
  if (rule.identity === undefined && rule.issuer === undefined) {
    throw new Error("an authorization rule names an identity or a token issuer");
  }
  return {
    identity: rule.identity === undefined ? undefined : identityMatcher(rule.identity),
    issuer: rule.issuer,
    sub: rule.sub === undefined ? undefined : identityMatcher(rule.sub),
    group: rule.group,
    scope: rule.scope,
    roles: rule.roles,
  };
}

function matches(r: CompiledRule, identity: string, token: TokenFacts | undefined): boolean {
  if (r.identity) return r.identity(identity);
  if (!token || !matchesButScope(r, token)) return false;
  if (r.scope !== undefined && !grantsScope(token.scopes, r.scope)) return false;
  return true;
}

function matchesButScope(r: CompiledRule, token: TokenFacts): boolean {
  if (r.identity || token.issuer !== r.issuer) return false;
  if (r.sub && !r.sub(token.sub)) return false;
  if (r.group !== undefined && !token.groups.includes(r.group)) return false;
  return true;
}

/** True when `scopes` grant `want` (`compute.read`), or a scope with a path under it. */
export function grantsScope(scopes: readonly string[], want: string): boolean {
  return scopes.some((s) => s === want || s.startsWith(`${want}:`));
}

/** Every rule that matches contributes its roles (rules add up; none take away). */
export function createAuthorizer(cfg: AuthzConfig): Authorizer {
  for (const r of cfg.rules) {
    for (const role of r.roles) {
      if (!(ROLES as readonly string[]).includes(role))
        throw new Error(`unknown role "${role}" for ${r.identity ?? r.issuer}`);
    }
  }
  const rules = cfg.rules.map(compile);
  const defaults: ReadonlySet<Role> = new Set(cfg.default_roles ?? ["read"]);
  // Certificate identities are memoised; a token's roles also depend on its groups and
  // scopes, so they are worked out per connection (the token's verdict is cached already).
  const memo = new Map<string, ReadonlySet<Role>>();
  const compute = (identity: string, token: TokenFacts | undefined): ReadonlySet<Role> => {
    const roles = new Set<Role>();
    let matched = false;
    for (const r of rules) {
      if (matches(r, identity, token)) {
        matched = true;
        for (const role of r.roles) roles.add(role);
      }
    }
    return matched ? roles : defaults;
  };
  const rolesFor = (identity: string, token?: TokenFacts): ReadonlySet<Role> => {
    if (token) return compute(identity, token);
    const hit = memo.get(identity);
    if (hit) return hit;
    const out = compute(identity, undefined);
    if (memo.size > 10_000) memo.clear();
    memo.set(identity, out);
    return out;
  };
  return {
    rolesFor,
    allows: (identity, allowed, token) => {
      const have = rolesFor(identity, token);
      return allowed.some((r) => have.has(r));
    },
    scopesGranting: (token) => [
      ...new Set(
        rules.flatMap((r) => (r.scope !== undefined && matchesButScope(r, token) ? [r.scope] : [])),
      ),
    ],
  };
}

/**
 * Authorization: verified identities (slash-form DNs) mapped to roles by exact DN or `*`
 * patterns. A valid identity no rule names gets `defaultRoles` (read only unless configured).
 * Each RPC declares the roles that may call it; the wire layer asks `rolesFor` once per peer.
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

export interface AuthzRule {
  /** An exact DN, or a pattern where `*` matches any run of characters (slashes included). */
  identity: string;
  roles: Role[];
}

export interface AuthzConfig {
  rules: AuthzRule[];
  /** Roles for a valid identity that no rule matches. Default `["read"]`. */
  defaultRoles?: Role[];
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
              .startsWith("/", "an identity is a slash-form DN like /DC=org/CN=x, or *")
              .or(z.literal("*")),
            roles: z.array(z.enum(ROLES)).min(1),
          })
          .strict(),
      )
      .default([]),
    defaultRoles: z.array(z.enum(ROLES)).optional(),
  })
  .strict();

export interface Authorizer {
  rolesFor(identity: string): ReadonlySet<Role>;
  /** True when `identity` holds at least one of `allowed`. */
  allows(identity: string, allowed: readonly Role[]): boolean;
}

interface CompiledRule {
  exact: string | undefined;
  pattern: RegExp | undefined;
  roles: Role[];
}

function compile(rule: AuthzRule): CompiledRule {
  if (!rule.identity.includes("*"))
    return { exact: rule.identity, pattern: undefined, roles: rule.roles };
  const body = rule.identity
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return { exact: undefined, pattern: new RegExp(`^${body}$`), roles: rule.roles };
}

/** Every rule that matches contributes its roles (rules add up; none take away). */
export function createAuthorizer(cfg: AuthzConfig): Authorizer {
  for (const r of cfg.rules) {
    for (const role of r.roles) {
      if (!(ROLES as readonly string[]).includes(role))
        throw new Error(`unknown role "${role}" for ${r.identity}`);
    }
  }
  const rules = cfg.rules.map(compile);
  const defaults: ReadonlySet<Role> = new Set(cfg.defaultRoles ?? ["read"]);
  const memo = new Map<string, ReadonlySet<Role>>();
  const rolesFor = (identity: string): ReadonlySet<Role> => {
    const hit = memo.get(identity);
    if (hit) return hit;
    const roles = new Set<Role>();
    let matched = false;
    for (const r of rules) {
      if (r.exact === identity || r.pattern?.test(identity)) {
        matched = true;
        for (const role of r.roles) roles.add(role);
      }
    }
    const out: ReadonlySet<Role> = matched ? roles : defaults;
    if (memo.size > 10_000) memo.clear();
    memo.set(identity, out);
    return out;
  };
  return {
    rolesFor,
    allows: (identity, allowed) => {
      const have = rolesFor(identity);
      return allowed.some((r) => have.has(r));
    },
  };
}

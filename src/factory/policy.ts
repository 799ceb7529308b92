/** Config to the decision's plain policy values (entries and security classes). */
import type { EntryConfig, FactoryConfig, LimitSet } from "./config.js";
import type { EntryPolicy, Limits, SecurityClass } from "./decide-types.js";

function limits(l: LimitSet): Limits {
  return { maxGlideins: l.max_glideins, maxIdle: l.max_idle, maxHeld: l.max_held };
}

export function entryPolicy(cfg: FactoryConfig, e: EntryConfig): EntryPolicy {
  return {
    name: e.name,
    enabled: e.enabled,
    perEntry: limits(e.limits.per_entry),
    perFrontend: Object.fromEntries(
      Object.entries(e.limits.per_frontend).map(([k, v]) => [k, limits(v)]),
    ),
    maxPerCycle: (e.submit ?? cfg.defaults.submit).max_per_cycle,
    removeMargin: cfg.defaults.remove_margin,
    allowClasses: e.allow_classes,
  };
}

export function securityClasses(cfg: FactoryConfig): SecurityClass[] {
  return cfg.security.frontends.flatMap((f) =>
    Object.entries(f.security_classes).map(([name, c]) => ({
      frontend: f.name,
      name,
      identity: c.identity,
    })),
  );
}

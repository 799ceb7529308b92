/**
 * Every daemon's configuration speaks one vocabulary: snake_case keys, durations in seconds under
 * keys ending in `_s`, and `tls`, `authorization` and `collector` blocks made from the shared
 * pieces in src/common/config-blocks.ts. This walks each schema and names every key that breaks
 * the rule.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { collectorConfigSchema } from "../../src/collector/config.js";
import { scheddConfigSchema } from "../../src/schedd/config.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { frontendConfigSchema } from "../../src/frontend/config.js";
import {
  durationS,
  isDuration,
  isSharedBlock,
  logLevelKey,
  tlsBlock,
} from "../../src/common/config-blocks.js";

const DAEMON_SCHEMAS: Record<string, z.ZodType> = {
  collector: collectorConfigSchema,
  schedd: scheddConfigSchema,
  factory: factoryConfigSchema,
  frontend: frontendConfigSchema,
};

/** Key names that say "time" but whose value is not marked as a duration. */
const TIME_WORDS =
  /(^|_)(interval|period|timeout|delay|lifetime|lease|walltime|seconds|minutes|hours|days|half_life|backoff|retire|age)(_|$)/;
const SHARED_NAMES = new Set(["tls", "authorization", "collector"]);

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under defaults, optionals and transforms, and every step on the way down. */
function unwrap(schema: z.ZodType): z.ZodType[] {
  const chain = [schema];
  for (;;) {
    const def = defOf(chain[chain.length - 1]!);
    const next =
      def.innerType ??
      (def.type === "pipe" ? (defOf(def.in!).type === "transform" ? def.out : def.in) : undefined);
    if (!next) return chain;
    chain.push(next);
  }
}

/** Every rule broken under `schema`, each as "path: what". */
function violations(schema: z.ZodType, path: string): string[] {
  const chain = unwrap(schema);
  const inner = chain[chain.length - 1]!;
  const def = defOf(inner);
  const out: string[] = [];
  if (def.type === "object") {
    for (const [key, child] of Object.entries(def.shape!)) {
      const at = path ? `${path}.${key}` : key;
      const childChain = unwrap(child);
      const childInner = childChain[childChain.length - 1]!;
      if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(key)) out.push(`${at}: not snake_case`);
      const marked = childChain.some(isDuration);
      if (marked && !key.endsWith("_s")) out.push(`${at}: a duration whose key does not end in _s`);
      if (!marked && key.endsWith("_s")) out.push(`${at}: ends in _s but is not a duration`);
      if (!marked && defOf(childInner).type === "number" && TIME_WORDS.test(key))
        out.push(`${at}: names a time but is not a duration in seconds`);
      const isBlock = childChain.some(isSharedBlock);
      if (SHARED_NAMES.has(key) && !isBlock && defOf(childInner).type !== "array")
        out.push(`${at}: not built from the shared ${key} block`);
      if (key === "authz") out.push(`${at}: the block is called authorization`);
      if (
        defOf(childInner).type === "object" &&
        "cert_file" in defOf(childInner).shape! &&
        !isBlock
      )
        out.push(`${at}: certificate keys outside a shared tls block`);
      out.push(...violations(child, at));
    }
  } else if (def.type === "array") {
    out.push(...violations(def.element!, `${path}[]`));
  } else if (def.type === "record") {
    out.push(...violations(def.valueType!, `${path}.*`));
  } else if (def.type === "union") {
    for (const option of def.options!) out.push(...violations(option, path));
  }
  return out;
}

for (const [daemon, schema] of Object.entries(DAEMON_SCHEMAS)) {
  test(`${daemon}: every configuration key follows the shared vocabulary`, () => {
    assert.deepEqual(violations(schema, ""), []);
  });

  test(`${daemon}: has name and the shared log_level`, () => {
    const shape = defOf(unwrap(schema).at(-1)!).shape!;
    assert.ok("name" in shape, "a top-level name key");
    assert.equal(shape.log_level, logLevelKey);
  });
}

test("the walker itself finds each kind of fault", () => {
  const bad = z
    .object({
      name: z.string(),
      defaultRoles: z.array(z.string()),
      loop_delay: z.number().default(60),
      retire: durationS.default(5),
      timeout_s: z.string(),
      tls: z.object({ cert_file: z.string(), key_file: z.string() }),
      credentials: z.object({ cert_file: z.string() }).optional(),
      authz: z.object({}),
      nested: z.array(z.object({ inner: z.record(z.string(), z.object({ maxAge: z.number() })) })),
      good: tlsBlock().optional(),
    })
    .strict()
    .transform((v) => v);
  assert.deepEqual(violations(bad, "").sort(), [
    "authz: the block is called authorization",
    "credentials: certificate keys outside a shared tls block",
    "defaultRoles: not snake_case",
    "loop_delay: names a time but is not a duration in seconds",
    "nested[].inner.*.maxAge: not snake_case",
    "retire: a duration whose key does not end in _s",
    "timeout_s: ends in _s but is not a duration",
    "tls: certificate keys outside a shared tls block",
    "tls: not built from the shared tls block",
  ]);
});

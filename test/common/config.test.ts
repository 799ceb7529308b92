import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { ConfigError, parseConfig } from "../../src/common/config.js";

const schema = z
  .object({
    name: z.string(),
    port: z.number().int().default(9618),
    limits: z.object({ max_ads: z.number().int().positive() }).strict(),
  })
  .strict();

function problemsOf(text: string): ConfigError["problems"] {
  try {
    parseConfig(schema, text, "test.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("a good file is parsed, defaulted and frozen", () => {
  const cfg = parseConfig(schema, "name: c1\nlimits:\n  max_ads: 5\n", "test.yaml");
  assert.deepEqual(cfg, { name: "c1", port: 9618, limits: { max_ads: 5 } });
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.limits));
});

test("every problem is reported with its path and line", () => {
  const problems = problemsOf("name: 3\nlimits:\n  max_ads: -1\n  max_adz: 2\nextra: true\n");
  const byPath = new Map(problems.map((p) => [p.path, p]));
  assert.equal(problems.length, 4);
  assert.equal(byPath.get("name")?.line, 1);
  assert.equal(byPath.get("limits.max_ads")?.line, 3);
  assert.match(byPath.get("limits.max_adz")?.message ?? "", /unknown key/);
  assert.equal(byPath.get("limits.max_adz")?.line, 4);
  assert.equal(byPath.get("extra")?.line, 5);
});

test("a missing required section names the path", () => {
  const problems = problemsOf("name: c1\n");
  assert.deepEqual(
    problems.map((p) => [p.path, p.line]),
    [["limits", undefined]],
  );
  assert.equal(problems[0]!.message, "required, but missing");
});

test("YAML syntax errors name the line", () => {
  const problems = problemsOf("name: c1\nlimits: [unclosed\n");
  assert.ok(problems.length >= 1);
  assert.match(problems[0]!.message, /YAML syntax/);
  assert.equal(typeof problems[0]!.line, "number");
});

test("duplicate keys are refused", () => {
  const problems = problemsOf("name: a\nname: b\nlimits:\n  max_ads: 1\n");
  assert.match(problems[0]!.message, /YAML syntax/);
});

test("${VAR} and ${VAR:-default} take values from the environment, typed when plain", () => {
  const env = { NAME: "pool-1", MAX: "7", EMPTY: "" };
  const text = "name: ${NAME}-$${literal}\nport: ${PORT:-9700}\nlimits:\n  max_ads: ${MAX}\n";
  const cfg = parseConfig(schema, text, "test.yaml", env);
  assert.deepEqual(cfg, { name: "pool-1-${literal}", port: 9700, limits: { max_ads: 7 } });
  // Quoted stays a string, so the schema says so.
  assert.throws(
    () => parseConfig(schema, 'name: a\nlimits:\n  max_ads: "${MAX}"\n', "t.yaml", env),
    /limits\.max_ads/,
  );
});

test("an unset variable without a default is a problem with its path and line", () => {
  try {
    parseConfig(schema, "name: x\nlimits:\n  max_ads: ${NOPE}\n", "t.yaml", { EMPTY: "" });
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.length, 1);
    assert.equal(err.problems[0]!.path, "limits.max_ads");
    assert.equal(err.problems[0]!.line, 3);
    assert.match(err.problems[0]!.message, /NOPE is not set/);
  }
});

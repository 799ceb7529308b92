import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { ConfigError, parseConfig } from "../../src/common/config.js";
import { factoryConfigSchema, loadFactoryConfig } from "../../src/factory/config.js";

test("the example config loads", () => {
  const cfg = loadFactoryConfig("config/factory.yaml");
  assert.equal(cfg.entries[0]?.name, "local_test");
  assert.equal(cfg.entries[0]?.limits.per_entry.max_glideins, 100);
});

test("every problem is reported with its path", () => {
  const text = readFileSync("config/factory.yaml", "utf8")
    .replace("cycle_s: 60", "cycle_s: -1")
    .replace("max_idle: 20", "max_idel: 20")
    .replace("allow_classes: [frontend]", "allow_classes: [nobody]");
  try {
    parseConfig(factoryConfigSchema, text, "f.yaml");
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const paths = err.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      "entries[0].allow_classes[0]",
      "entries[0].limits.per_entry.max_idel",
      "loop.cycle_s",
    ]);
  }
});

test("an entry's partial submit and stale blocks take the rest from the factory's defaults", () => {
  const text = readFileSync("config/factory.yaml", "utf8")
    .replace(
      "    submit: { max_per_cycle: 10, cluster_size: 5 }\n    stale: { idle: 86400, running: 172800, held: 3600, unsubmitted: 600 }",
      "    submit: { max_per_cycle: 7 }\n    stale: { idle: 120 }",
    )
    .replace(
      "  stale: { idle: 604800, running: 604800, held: 86400, unsubmitted: 3600 }",
      "  stale: { idle: 604800, running: 5000, held: 400, unsubmitted: 300 }",
    );
  const cfg = parseConfig(factoryConfigSchema, text, "f.yaml");
  assert.deepEqual(cfg.entries[0]?.submit, { max_per_cycle: 7, cluster_size: 10 });
  assert.deepEqual(cfg.entries[0]?.stale, {
    idle: 120,
    running: 5000,
    held: 400,
    unsubmitted: 300,
  });
});

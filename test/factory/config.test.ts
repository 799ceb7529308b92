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

import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { ConfigError, parseConfig } from "../../src/common/config.js";
import { configDeprecations } from "../../src/common/config-renames.js";
import {
  FACTORY_RENAMES,
  factoryConfigSchema,
  loadFactoryConfig,
} from "../../src/factory/config.js";

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
      "    submit: { max_per_cycle: 10, cluster_size: 5 }\n    stale: { idle_s: 86400, running_s: 172800, held_s: 3600, unsubmitted_s: 600 }",
      "    submit: { max_per_cycle: 7 }\n    stale: { idle_s: 120 }",
    )
    .replace(
      "  stale: { idle_s: 604800, running_s: 604800, held_s: 86400, unsubmitted_s: 3600 }",
      "  stale: { idle_s: 604800, running_s: 5000, held_s: 400, unsubmitted_s: 300 }",
    );
  const cfg = parseConfig(factoryConfigSchema, text, "f.yaml");
  assert.deepEqual(cfg.entries[0]?.submit, { max_per_cycle: 7, cluster_size: 10 });
  assert.deepEqual(cfg.entries[0]?.stale, {
    idle_s: 120,
    running_s: 5000,
    held_s: 400,
    unsubmitted_s: 300,
  });
});

/** The example file as the previous release spelt it. */
function oldSpelling(): string {
  return readFileSync("config/factory.yaml", "utf8")
    .replace("\ntls:\n", "\ncredentials:\n")
    .replace(
      "  # url: https://factory.example.org:8319\n",
      "  cert_file: /web.pem\n  key_file: /web.key\n",
    )
    .replace(
      "stale: { idle_s: 604800, running_s: 604800, held_s: 86400, unsubmitted_s: 3600 }",
      "stale: { idle: 604800, running: 604800, held: 86400, unsubmitted: 3600 }",
    )
    .replace(
      "stale: { idle_s: 86400, running_s: 172800,",
      "stale: { idle: 86400, running: 172800,",
    );
}

test("the previous release's spellings load the same, each named once with its new key", () => {
  const cfg = parseConfig(factoryConfigSchema, oldSpelling(), "old.yaml", {}, FACTORY_RENAMES);
  const now = loadFactoryConfig("config/factory.yaml");
  assert.deepEqual(cfg.tls, now.tls);
  assert.deepEqual(cfg.staging?.tls, { cert_file: "/web.pem", key_file: "/web.key" });
  assert.deepEqual(cfg.defaults.stale, now.defaults.stale);
  assert.deepEqual(cfg.entries[0]?.stale, now.entries[0]?.stale);
  assert.deepEqual(
    configDeprecations(cfg).map((d) => [d.from, d.to]),
    [
      ["credentials", "tls"],
      ["staging.cert_file", "staging.tls.cert_file"],
      ["staging.key_file", "staging.tls.key_file"],
      ["defaults.stale.idle", "defaults.stale.idle_s"],
      ["entries.*.stale.idle", "entries.*.stale.idle_s"],
      ["defaults.stale.running", "defaults.stale.running_s"],
      ["entries.*.stale.running", "entries.*.stale.running_s"],
      ["defaults.stale.held", "defaults.stale.held_s"],
      ["defaults.stale.unsubmitted", "defaults.stale.unsubmitted_s"],
    ],
  );
  assert.deepEqual(configDeprecations(now), []);
});

test("a key given in both spellings is refused, naming the one to keep", () => {
  const text = readFileSync("config/factory.yaml", "utf8").replace(
    "\ntls:\n",
    "\ncredentials: { cert_file: /c.pem, key_file: /k.pem }\ntls:\n",
  );
  assert.throws(
    () => parseConfig(factoryConfigSchema, text, "both.yaml", {}, FACTORY_RENAMES),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 1 &&
      err.problems[0]!.path === "tls" &&
      /keep only tls/.test(err.problems[0]!.message),
  );
});

test("entry attributes for pilots: system names, bad types and case twins fail with path and line", () => {
  const text = readFileSync("config/factory.yaml", "utf8").replace(
    '      GLIDEIN_Supported_VOs: { value: "example", type: string }\n',
    `      GLIDEIN_Supported_VOs: { value: "example", type: string }
      VO_Site_Queue: { value: short, const: false, glidein_publish: true }
      GLIDEIN_Entry_Name: { value: fake, glidein_publish: true }
      VO_Cores: { value: many, type: int, job_publish: true }
      VO_Frac: { value: 0.5, type: real, glidein_publish: true }
      vo_site_queue: { value: long }
`,
  );
  let problems: ConfigError["problems"] = [];
  try {
    parseConfig(factoryConfigSchema, text, "f.yaml");
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    problems = err.problems;
  }
  const at = (path: string) => problems.find((p) => p.path === path);
  const expect: [string, number, RegExp][] = [
    ["entries[0].attrs.GLIDEIN_Entry_Name", 89, /system sets itself/],
    ["entries[0].attrs.VO_Cores.value", 90, /type int needs a whole number/],
    ["entries[0].attrs.VO_Frac.type", 91, /take type string, int or expr/],
    ["entries[0].attrs.vo_site_queue", 92, /same ClassAd name as VO_Site_Queue/],
  ];
  for (const [path, line, message] of expect) {
    const p = at(path);
    assert.ok(
      p,
      `no problem at ${path}; got ${problems.map((x) => `${x.path}@${x.line}`).join(", ")}`,
    );
    assert.equal(p.line, line, path);
    assert.match(p.message, message, path);
  }
  assert.equal(problems.length, 4, "VO_Site_Queue itself is fine");
});

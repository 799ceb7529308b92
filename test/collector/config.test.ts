import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/common/config.js";
import { configDeprecations } from "../../src/common/config-renames.js";
import {
  DEFAULT_WRITE_ROLES,
  lifetimeResolver,
  loadCollectorConfig,
  writeRolesResolver,
} from "../../src/collector/config.js";
import { tempDir } from "./harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const example = fileURLToPath(new URL("../../../config/collector.yaml", import.meta.url));
let tmp: ReturnType<typeof tempDir>;

before(() => {
  tmp = tempDir();
});
after(() => tmp.cleanup());

const BAD = `
listen:
  host: 127.0.0.1
  port: 99999
tls:
  cert_file: /etc/host.pem
write_roles:
  GlideFactory: [factory, wizard]
lifetime:
  default_s: -5
limits:
  max_ad_bytes: 1000
  max_ads_per_idenity: 5
unknown_section: true
`;

test("a bad configuration lists every problem with its path and line", () => {
  const file = join(tmp.dir, "bad.yaml");
  writeFileSync(file, BAD);
  let caught: unknown;
  try {
    loadCollectorConfig(file);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError);
  const paths = caught.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    "lifetime.default_s",
    "limits.max_ads_per_idenity",
    "listen.port",
    "tls.key_file",
    "unknown_section",
    "write_roles.GlideFactory[1]",
  ]);
  const port = caught.problems.find((p) => p.path === "listen.port");
  assert.equal(port?.line, 4);
});

test("updraft collector with a bad configuration exits non-zero listing the problems", () => {
  const file = join(tmp.dir, "bad2.yaml");
  writeFileSync(file, BAD);
  const r = spawnSync(process.execPath, [bin, "collector", "--config", file], { encoding: "utf8" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /6 problems/);
  assert.match(r.stderr, /listen\.port \(line 4\)/);
  assert.match(r.stderr, /unknown_section/);
});

test("the example configuration is valid and keeps the documented defaults", () => {
  const cfg = loadCollectorConfig(example);
  assert.equal(cfg.lifetime.default_s, 900);
  assert.deepEqual(configDeprecations(cfg), []);
  assert.equal(cfg.snapshot, undefined);
  assert.deepEqual(cfg.per_writer_types, ["PilotCredential"]);
  const roles = writeRolesResolver(cfg);
  for (const [type, expected] of Object.entries(DEFAULT_WRITE_ROLES)) {
    assert.deepEqual(roles(type), expected, type);
  }
  assert.deepEqual(roles("SomethingElse"), ["daemon"]);
  assert.equal(lifetimeResolver(cfg)("slot"), cfg.lifetime.per_type.Slot ?? 900);
});

const OLD_SPELLINGS = `
tls:
  cert_file: /etc/host.pem
  key_file: /etc/host.key
authorization:
  rules: []
  defaultRoles: [pilot]
lifetime:
  default: 120
  max: 7200
self_ad_interval: 30
snapshot:
  path: /var/lib/updraft/collector.sqlite
  period: 600
`;

test("the previous release's spellings load the same, each named once with its new key", () => {
  const file = join(tmp.dir, "old.yaml");
  writeFileSync(file, OLD_SPELLINGS);
  const cfg = loadCollectorConfig(file);
  assert.deepEqual(cfg.authorization.default_roles, ["pilot"]);
  assert.equal(cfg.lifetime.default_s, 120);
  assert.equal(cfg.lifetime.max_s, 7200);
  assert.equal(cfg.self_ad_interval_s, 30);
  assert.equal(cfg.snapshot?.period_s, 600);
  assert.deepEqual(
    configDeprecations(cfg).map((d) => [d.from, d.to]),
    [
      ["authorization.defaultRoles", "authorization.default_roles"],
      ["lifetime.default", "lifetime.default_s"],
      ["lifetime.max", "lifetime.max_s"],
      ["self_ad_interval", "self_ad_interval_s"],
      ["snapshot.period", "snapshot.period_s"],
    ],
  );
});

test("a key given in both spellings is refused; a bad old value points at its line", () => {
  const both = join(tmp.dir, "both.yaml");
  writeFileSync(
    both,
    "tls:\n  cert_file: a\n  key_file: b\nself_ad_interval: 30\nself_ad_interval_s: 60\n",
  );
  assert.throws(
    () => loadCollectorConfig(both),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 1 &&
      err.problems[0]!.path === "self_ad_interval_s" &&
      /keep only self_ad_interval_s/.test(err.problems[0]!.message),
  );
  const bad = join(tmp.dir, "bad-old.yaml");
  writeFileSync(bad, "tls:\n  cert_file: a\n  key_file: b\nlifetime:\n  default: -1\n");
  assert.throws(
    () => loadCollectorConfig(bad),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems[0]!.path === "lifetime.default_s" &&
      err.problems[0]!.line === 5,
  );
});

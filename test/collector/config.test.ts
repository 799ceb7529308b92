import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/common/config.js";
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
  default: -5
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
    "lifetime.default",
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
  assert.equal(cfg.lifetime.default, 900);
  assert.equal(cfg.snapshot, undefined);
  const roles = writeRolesResolver(cfg);
  for (const [type, expected] of Object.entries(DEFAULT_WRITE_ROLES)) {
    assert.deepEqual(roles(type), expected, type);
  }
  assert.deepEqual(roles("SomethingElse"), ["daemon"]);
  assert.equal(lifetimeResolver(cfg)("slot"), cfg.lifetime.per_type.Slot ?? 900);
});

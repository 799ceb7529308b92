import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/common/config.js";
import { loadFrontendConfig, parseFrontendConfig } from "../../src/frontend/config.js";

const EXAMPLE = fileURLToPath(new URL("../../../config/frontend.yaml", import.meta.url));

function problems(text: string): ConfigError["problems"] {
  try {
    parseFrontendConfig(text, "fe.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("the commented example config loads, with defaults filled in", () => {
  const cfg = loadFrontendConfig(EXAMPLE);
  assert.equal(cfg.frontend_name, "vo-frontend");
  assert.deepEqual(
    cfg.groups.map((g) => g.name),
    ["main", "gpu"],
  );
  const gpu = cfg.groups[1]!;
  assert.equal(gpu.limits.ramp_up_attenuation, 3, "default");
  assert.deepEqual(gpu.limits.removal, { type: "WAIT", margin: 0 });
  assert.ok(Object.isFrozen(cfg.groups[0]!.limits));
});

const BROKEN = `frontend_name: fe
schedds: []
security:
  identity: /CN=fe
  credentials: [{ file: /tmp/p, colour: blue }]
groups:
  - name: main
    match_expr: TARGET.GLIDEIN_Site == && true
    limits:
      removal: { type: SOME, margin: -1 }
      idle_vms_per_entry: { max: 10, curbb: 5 }
  - name: main
`;

test("every problem is listed with its path and line", () => {
  const ps = problems(BROKEN);
  const byPath = new Map(ps.map((p) => [p.path, p]));
  const expect: [string, number | undefined][] = [
    ["collector", undefined],
    ["schedds", 2],
    ["security.credentials[0].colour", 5],
    ["groups[0].match_expr", 8],
    ["groups[0].limits.removal.type", 10],
    ["groups[0].limits.removal.margin", 10],
    ["groups[0].limits.idle_vms_per_entry.curbb", 11],
  ];
  for (const [path, line] of expect) {
    const p = byPath.get(path);
    assert.ok(p, `missing problem at ${path}; got ${ps.map((x) => x.path).join(", ")}`);
    if (line !== undefined) assert.equal(p.line, line, path);
  }
});

test("a bad expression names its column", () => {
  const ps = problems(BROKEN);
  const p = ps.find((x) => x.path === "groups[0].match_expr")!;
  assert.match(p.message, /bad ClassAd expression at column 24/);
});

test("duplicate group names are refused", () => {
  const text = BROKEN.replace("TARGET.GLIDEIN_Site == && true", "true")
    .replace("schedds: []", "collector: c\nschedds: [s]")
    .replace(", colour: blue", "")
    .replace("type: SOME, margin: -1", "type: ALL, margin: 1")
    .replace("curbb", "curb")
    .replace("groups:", "factories: [{ name: f, identity: /CN=f }]\ngroups:");
  const ps = problems(text);
  assert.deepEqual(
    ps.map((p) => [p.path, p.message]),
    [["groups[1].name", "duplicate group"]],
  );
});

test("expressions in the global match section are checked too", () => {
  const ps = problems(`frontend_name: fe
collector: c
schedds: [s]
security: { identity: x, credentials: [{ file: f }] }
match:
  factory_query_expr: 'GLIDEIN_Site == "unterminated'
groups: [{ name: g }]
factories: [{ name: f, identity: /CN=f }]
`);
  assert.equal(ps.length, 1);
  assert.equal(ps[0]!.path, "match.factory_query_expr");
  assert.equal(ps[0]!.line, 6);
  assert.match(ps[0]!.message, /column \d+/);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../src/common/config.js";
import { configDeprecations } from "../../src/common/config-renames.js";
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
  assert.equal(cfg.name, "vo-frontend");
  assert.equal(cfg.collector.url, "wss://collector.vo.example.org:9618");
  assert.deepEqual(configDeprecations(cfg), []);
  assert.deepEqual(
    cfg.groups.map((g) => g.name),
    ["main", "gpu"],
  );
  const gpu = cfg.groups[1]!;
  assert.equal(gpu.limits.ramp_up_attenuation, 3, "default");
  assert.deepEqual(gpu.limits.removal, { type: "WAIT", margin: 0 });
  assert.ok(Object.isFrozen(cfg.groups[0]!.limits));
});

const BROKEN = `name: fe
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
    .replace("schedds: []", "collector: { url: wss://c }\nschedds: [s]")
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
  const ps = problems(`name: fe
collector: { url: wss://c }
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

/** The example file as the previous release spelt it. */
const OLD_SPELLING = `frontend_name: fe
collector: wss://c:9618
schedds: [wss://s]
loop_delay: 30
peer_timeout: 2.5
security: { identity: /CN=fe, credentials: [{ file: /p }] }
factories: [{ name: f, identity: /CN=f }]
pilot: { max_walltime: 7200, retire_time: 3600, max_idle: 600 }
groups:
  - name: a
    limits: { idle_glideins_lifetime: 900 }
  - name: b
`;

test("the previous release's spellings load the same, each named once with its new key", () => {
  const cfg = parseFrontendConfig(OLD_SPELLING, "old.yaml");
  assert.equal(cfg.name, "fe");
  assert.deepEqual(cfg.collector, { url: "wss://c:9618" });
  assert.equal(cfg.cycle_s, 30);
  assert.equal(cfg.peer_timeout_s, 2.5);
  assert.deepEqual(cfg.pilot, { max_walltime_s: 7200, retire_time_s: 3600, max_idle_s: 600 });
  assert.equal(cfg.groups[0]!.limits.idle_glideins_lifetime_s, 900);
  assert.equal(cfg.groups[1]!.limits.idle_glideins_lifetime_s, 0);
  assert.deepEqual(
    configDeprecations(cfg).map((d) => [d.from, d.to]),
    [
      ["frontend_name", "name"],
      ["collector", "collector.url"],
      ["loop_delay", "cycle_s"],
      ["peer_timeout", "peer_timeout_s"],
      ["pilot.max_walltime", "pilot.max_walltime_s"],
      ["pilot.retire_time", "pilot.retire_time_s"],
      ["pilot.max_idle", "pilot.max_idle_s"],
      ["groups.*.limits.idle_glideins_lifetime", "groups.*.limits.idle_glideins_lifetime_s"],
    ],
  );
});

test("a key given in both spellings is refused; a collector block is not an old spelling", () => {
  const both = problems(OLD_SPELLING.replace("loop_delay: 30", "loop_delay: 30\ncycle_s: 5"));
  assert.deepEqual(
    both.map((p) => p.path),
    ["cycle_s"],
  );
  assert.match(both[0]!.message, /keep only cycle_s/);
  const block = problems(OLD_SPELLING.replace("collector: wss://c:9618", "collector: { url: c }"));
  assert.deepEqual(
    block.map((p) => p.path),
    ["collector.url"],
    "a block under the new name is checked as one, not moved",
  );
});

test("ce_tokens takes an issuer dir or ready-made files, not both, and its scope must submit", () => {
  const with_ = (ce: string) => `name: fe
collector: { url: wss://c.example.org:9618 }
schedds: [wss://s.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ file: /tmp/p }]
  ce_tokens: ${ce}
factories: [{ name: f, identity: /CN=f }]
groups: [{ name: g }]
`;
  const messages = (ce: string) =>
    problems(with_(ce))
      .map((p) => p.message)
      .join("\n");
  assert.match(messages("{ dir: /d, files: [/t] }"), /either dir .* or files/);
  assert.match(messages("{ lifetime_s: 3600 }"), /either dir .* or files/);
  assert.match(messages("{ files: [/t], sub: vo }"), /a ready-made token keeps its own/);
  assert.match(messages('{ dir: /d, scope: "compute.read" }'), /must grant compute\.create/);
  assert.deepEqual(
    parseFrontendConfig(with_("{ files: [/t/ce-a, /t/ce-b] }"), "fe.yaml").security.ce_tokens
      ?.files,
    ["/t/ce-a", "/t/ce-b"],
  );
});

test("staging.listen without the tls section is a configuration problem, found before the start", () => {
  const ps = problems(`name: fe
collector: { url: "wss://localhost:1/" }
schedds: ["wss://localhost:2/"]
security:
  identity: /CN=fe
  credentials: [{ file: /nonexistent/proxy }]
factories: [{ name: f, identity: /CN=f }]
staging: { dir: /tmp/stage, listen: { host: 127.0.0.1, port: 0 } }
groups:
  - name: main
    scripts: [{ file: /tmp/check.sh }]
`);
  const p = ps.find((x) => x.path === "staging.listen");
  assert.ok(p, JSON.stringify(ps));
  assert.match(p.message, /staging\.listen needs the tls section/);
});

test("a per-pilot token's or proxy's life is a minute to a week, a day by default", () => {
  const config = (block: string) => `name: fe
collector: { url: wss://c.example.org:9618 }
schedds: [wss://s.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ file: /tmp/p }]
  ${block}
factories: [{ name: f, identity: /CN=f }]
groups: [{ name: g }]
`;
  for (const [key, rest] of [
    ["pilot_tokens", "dir: /d, "],
    ["pilot_proxies", ""],
  ] as const) {
    const parsed = (life: string) =>
      parseFrontendConfig(config(`${key}: { ${rest}${life} }`), "fe.yaml").security[key]!;
    assert.equal(parsed("").lifetime_s, 86_400, `${key} default`);
    assert.equal(parsed("lifetime_s: 60").lifetime_s, 60, key);
    assert.equal(parsed("lifetime_s: 604800").lifetime_s, 604_800, key);
    for (const life of ["lifetime_s: 59", "lifetime_s: 604801"]) {
      assert.ok(
        problems(config(`${key}: { ${rest}${life} }`)).some((p) =>
          p.path.endsWith(`${key}.lifetime_s`),
        ),
        `${key} ${life} refused`,
      );
    }
  }
});

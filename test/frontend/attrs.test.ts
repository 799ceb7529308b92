import assert from "node:assert/strict";
import { test } from "node:test";
import { readGlideClient } from "../../src/ads/index.js";
import { ClassAd } from "../../src/classad/index.js";
import { ConfigError } from "../../src/common/config.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { groupPolicies } from "../../src/frontend/group-policy.js";
import { MINIMAL_CONFIG } from "./helpers.js";

const WITH_ATTRS = `${MINIMAL_CONFIG.replace(
  "groups:",
  `attrs:
  VO_Software: { value: /cvmfs/vo.example.org, glidein_publish: true, job_publish: true }
  VO_Tier: { value: 2, type: int, glidein_publish: true }
  VO_Note: { value: frontend only, parameter: false }
groups:`,
)}    attrs:
      VO_Tier: { value: 1, type: int, glidein_publish: true }
      VO_Fast: { value: "Cpus >= 4", type: expr, glidein_publish: true }
  - name: other
`;

test("a group's attributes are the frontend's with its own over them, name by name", () => {
  const [main, other] = groupPolicies(parseFrontendConfig(WITH_ATTRS, "fe.yaml"));
  const show = (p: typeof main) => p!.attrs.map((a) => `${a.name}=${a.value} (${a.from})`);
  assert.deepEqual(show(main), [
    "VO_Fast=Cpus >= 4 (group)",
    "VO_Note=frontend only (frontend)",
    "VO_Software=/cvmfs/vo.example.org (frontend)",
    "VO_Tier=1 (group)",
  ]);
  assert.deepEqual(show(other), [
    "VO_Note=frontend only (frontend)",
    "VO_Software=/cvmfs/vo.example.org (frontend)",
    "VO_Tier=2 (frontend)",
  ]);
  const software = main!.attrs.find((a) => a.name === "VO_Software")!;
  assert.equal(software.publish, true);
  assert.equal(software.job, true);
});

function problems(text: string): ConfigError["problems"] {
  try {
    parseFrontendConfig(text, "fe.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("bad, reserved, mistyped and conflicting attributes fail at start with path and line", () => {
  const text = `${MINIMAL_CONFIG.replace(
    "groups:",
    `attrs:
  GLIDEIN_Site: { value: Fake }
  9lives: { value: x }
  VO_Count: { value: "3", type: int }
  VO_Expr: { value: "a &&", type: expr }
  VO_Hidden: { value: x, parameter: false, job_publish: true }
  VO_Str: { value: 3 }
groups:`,
  )}    attrs:
      glideclient_group: { value: other }
      vo_a: { value: x }
      VO_A: { value: y }
`;
  const ps = problems(text);
  const at = (path: string) => ps.find((p) => p.path === path);
  const expect: [string, number, RegExp][] = [
    ["attrs.GLIDEIN_Site", 10, /system sets itself/],
    ["attrs.9lives", 11, /not a ClassAd name/],
    ["attrs.VO_Count.value", 12, /type int needs a whole number/],
    ["attrs.VO_Expr.value", 13, /bad ClassAd expression/],
    ["attrs.VO_Hidden.parameter", 14, /set parameter: true/],
    ["attrs.VO_Str.value", 15, /type string needs a string value/],
    ["groups[0].attrs.glideclient_group", 20, /system sets itself/],
    ["groups[0].attrs.VO_A", 22, /same ClassAd name as vo_a/],
  ];
  for (const [path, line, message] of expect) {
    const p = at(path);
    assert.ok(p, `no problem at ${path}; got ${ps.map((x) => `${x.path}@${x.line}`).join(", ")}`);
    assert.equal(p.line, line, path);
    assert.match(p.message, message, path);
  }
});

test("the GlideClient ad carries the group's parameter attributes only", async () => {
  const { buildGlideClientAds, factoryEntryInfo } = await import("../../src/frontend/ads.js");
  const { planCycle } = await import("../../src/frontend/compute.js");
  const { entryAd, snapshot } = await import("./helpers.js");
  const { generateKeyPairSync } = await import("node:crypto");
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();
  const config = parseFrontendConfig(WITH_ATTRS, "fe.yaml");
  const [policy] = groupPolicies(config);
  const ads = [entryAd("ea@gf@f", { GLIDEIN_Site: "A", PubKeyValue: pem })];
  const snap = snapshot({
    autoclusters: [{ id: "1", schedd: "s", count: 3, job: { DESIRED_Sites: '"A"' } }],
    factory_ads: ads,
  });
  const out = buildGlideClientAds({
    config,
    policy: policy!,
    plan: planCycle(policy!, snap, 1_790_000_000),
    factories: new Map([["ea@gf@f", factoryEntryInfo(ads[0]!)!]]),
    credentials: new Map([["/tmp/proxy", Buffer.from("proxy")]]),
  });
  assert.equal(out.ads.length, 1);
  const r = readGlideClient(ClassAd.parse(out.ads[0]!.toString()));
  assert.equal(r.params.VO_Software, "/cvmfs/vo.example.org");
  assert.equal(r.params.VO_Tier, 1);
  assert.equal(r.params.VO_Fast, "Cpus >= 4");
  assert.equal(r.params.VO_Note, undefined, "parameter: false stays at the frontend");
  assert.deepEqual(r.exprAttrs, ["VO_Fast"]);
  assert.deepEqual(r.publishAttrs, ["VO_Fast", "VO_Software", "VO_Tier"]);
  assert.deepEqual(r.jobPublishAttrs, ["VO_Software"]);
});

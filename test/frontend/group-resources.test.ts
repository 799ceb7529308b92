import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { readGlideClient } from "../../src/ads/index.js";
import { ClassAd } from "../../src/classad/index.js";
import { ConfigError } from "../../src/common/config.js";
import { buildGlideClientAds, factoryEntryInfo } from "../../src/frontend/ads.js";
import { planCycle } from "../../src/frontend/compute.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { groupPolicies } from "../../src/frontend/group-policy.js";
import { decryptCredential } from "../../src/security/credential-crypto.js";
import { entryAd, snapshot } from "./helpers.js";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
const PRIVATE = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

const CONFIG = `
name: fe
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://s1:9619, wss://s2:9619]
cycle_s: 60
security:
  identity: /CN=fe
  credentials:
    - { name: cms-a, file: /tmp/a, security_class: cms }
    - { name: cms-b, file: /tmp/b, security_class: cms }
    - { name: other, file: /tmp/o }
factories: [{ name: gf, identity: /CN=gf }]
pilot: { max_walltime_s: 7200, retire_time_s: 3600, max_idle_s: 600 }
groups:
  - name: all
    security: { credentials: [cms-a, cms-b], selection: all }
    pilot: { max_walltime_s: 3600 }
    schedds: [wss://s2:9619]
  - name: rr
    security: { credentials: [cms-a, cms-b], selection: round_robin }
  - name: plain
`;

const FILES = new Map([
  ["/tmp/a", Buffer.from("proxy-a")],
  ["/tmp/b", Buffer.from("proxy-b")],
  ["/tmp/o", Buffer.from("proxy-o")],
]);

function adsAt(group: string, now: number) {
  const config = parseFrontendConfig(CONFIG, "fe.yaml");
  const policy = groupPolicies(config).find((p) => p.name === group)!;
  const ads = [
    entryAd("e1@gf@x", { GLIDEIN_Site: "A", PubKeyValue: PEM }),
    entryAd("e2@gf@x", { GLIDEIN_Site: "B", PubKeyValue: PEM }),
  ];
  const snap = snapshot({
    autoclusters: [
      { id: "1", schedd: "wss://s1:9619", count: 5, job: {} },
      { id: "2", schedd: "wss://s2:9619", count: 3, job: {} },
    ],
    factory_ads: ads,
  });
  const plan = planCycle(policy, snap, now);
  const out = buildGlideClientAds({
    config,
    policy,
    plan,
    factories: new Map(ads.map((a) => factoryEntryInfo(a)!).map((f) => [f.name, f])),
    credentials: FILES,
    now,
  });
  return { plan, ads: out.ads.map((a) => readGlideClient(ClassAd.parse(a.toString()))) };
}

const open = (c: string | undefined) => decryptCredential(c!, PRIVATE).toString();

test("selection all: every request carries each of the group's credentials", () => {
  const { ads } = adsAt("all", 1_790_000_000);
  assert.equal(ads.length, 2);
  for (const r of ads) {
    assert.deepEqual(
      [open(r.encCredential), ...(r.moreCredentials ?? []).map(open)],
      ["proxy-a", "proxy-b"],
    );
    assert.equal(r.securityClass, "cms");
  }
});

test("round_robin: one credential per request, the next one at the next entry and cycle", () => {
  const at = (now: number) => adsAt("rr", now).ads.map((r) => open(r.encCredential));
  assert.deepEqual(at(60 * 1000), ["proxy-a", "proxy-b"]);
  assert.deepEqual(at(60 * 1001), ["proxy-b", "proxy-a"]);
  for (const r of adsAt("rr", 0).ads) assert.equal(r.moreCredentials, undefined);
});

test("a group without security sends the first credential, as before", () => {
  for (const r of adsAt("plain", 0).ads) assert.equal(open(r.encCredential), "proxy-a");
});

test("a group's own lifetimes and schedds reach its pilots; its jobs come from its schedds", () => {
  const { plan, ads } = adsAt("all", 0);
  assert.equal(plan.idleJobs, 3, "only wss://s2's autocluster");
  for (const r of ads) {
    assert.equal(r.params.GLIDEIN_Max_Walltime, 3600);
    assert.equal(r.params.GLIDEIN_Retire_Time, 3600, "the frontend's, not overridden");
    assert.equal(r.params.GLIDEIN_Max_Idle, 600);
    assert.equal(r.params.GLIDEIN_Schedds, "wss://s2:9619");
  }
  const plain = adsAt("plain", 0);
  assert.equal(plain.plan.idleJobs, 8);
  assert.equal(plain.ads[0]!.params.GLIDEIN_Schedds, "wss://s1:9619,wss://s2:9619");
  assert.equal(plain.ads[0]!.params.GLIDEIN_Max_Walltime, 7200);
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

test("unknown credentials and schedds, and credentials that cannot share a request, fail at start", () => {
  const text = CONFIG.replace("- { name: other, file: /tmp/o }", "- { name: cms-a, file: /tmp/o }")
    .replace("[cms-a, cms-b], selection: all", "[cms-a, cms-c], selection: all")
    .replace("schedds: [wss://s2:9619]", "schedds: [wss://s3:9619]")
    .replace(
      "  - name: plain\n",
      "  - name: plain\n  - name: mixed\n    security: { credentials: [cms-b, other2] }\n",
    );
  const ps = problems(text);
  const at = (path: string) => ps.find((p) => p.path === path);
  const expect: [string, number, RegExp][] = [
    ["security.credentials[2].name", 11, /another credential is named cms-a/],
    ["groups[0].security.credentials[1]", 16, /no credential named cms-c/],
    ["groups[0].schedds[0]", 18, /wss:\/\/s3:9619 is not among the frontend's schedds/],
    ["groups[3].security.credentials[1]", 23, /no credential named other2/],
  ];
  for (const [path, line, message] of expect) {
    const p = at(path);
    assert.ok(p, `no problem at ${path}; got ${ps.map((x) => `${x.path}@${x.line}`).join(", ")}`);
    assert.equal(p.line, line, path);
    assert.match(p.message, message, path);
  }
  const mixed = problems(
    CONFIG.replace(
      "{ name: cms-b, file: /tmp/b, security_class: cms }",
      "{ name: cms-b, file: /tmp/b }",
    ),
  );
  assert.match(
    mixed.find((p) => p.path === "groups[0].security.credentials")?.message ?? "",
    /one security_class and one type, or use round_robin/,
  );
});

test("selection all refuses more credentials of one trust domain than a request carries", () => {
  const names = Array.from({ length: 17 }, (_, i) => `c${i}`);
  const text = CONFIG.replace(
    "    - { name: other, file: /tmp/o }\n",
    names.map((n) => `    - { name: ${n}, file: /tmp/${n} }\n`).join(""),
  ).replace("[cms-a, cms-b], selection: all", `[${names.join(", ")}], selection: all`);
  const p = problems(text).find((x) => x.path === "groups[0].security.credentials");
  assert.match(p?.message ?? "", /at most 16 credentials of one trust domain/);
  assert.doesNotThrow(() =>
    parseFrontendConfig(
      text.replace(`${names.join(", ")}]`, `${names.slice(1).join(", ")}]`),
      "fe.yaml",
    ),
  );
});

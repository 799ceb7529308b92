import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import {
  adsToWithdraw,
  buildGlideClientAds,
  buildGlideResourceAds,
  factoryEntryInfo,
} from "../../src/frontend/ads.js";
import { planCycle } from "../../src/frontend/compute.js";
import { groupPolicy } from "../../src/frontend/group-policy.js";
import { decryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";
import { entryAd, minimalConfig, snapshot } from "./helpers.js";

const keys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const factoryA = keys();
const factoryB = keys();
const pemOf = (k: ReturnType<typeof keys>) =>
  k.publicKey.export({ type: "spki", format: "pem" }).toString();

const PROXY = Buffer.from(
  "-----BEGIN CERTIFICATE-----\npilot proxy bytes\n-----END CERTIFICATE-----\n",
);

function setup() {
  const config = minimalConfig(`    start_expr: TARGET.RequestCpus == 1
    limits:
      removal: { type: WAIT, margin: 2 }
      idle_glideins_lifetime_s: 3600
`);
  const policy = groupPolicy(config.groups[0]!, config.match);
  const ads = [
    entryAd("ea@gf@factoryA", { GLIDEIN_Site: "A", PubKeyValue: pemOf(factoryA) }),
    entryAd("eb@gf@factoryB", {
      GLIDEIN_Site: "B",
      PubKeyValue: pemOf(factoryB),
      GLIDEIN_TrustDomain: "grid",
    }),
    entryAd("ec@gf@factoryB", {
      GLIDEIN_Site: "C",
      PubKeyValue: pemOf(factoryB),
      GLIDEIN_TrustDomain: "cloud",
    }),
    entryAd("ed@gf@factoryB", { GLIDEIN_Site: "D" }),
    entryAd("unwanted@gf@factoryA", { GLIDEIN_Site: "Z", PubKeyValue: pemOf(factoryA) }),
  ];
  const snap = snapshot({
    autoclusters: [{ id: "1", schedd: "s", count: 9, job: { DESIRED_Sites: '"A,B,C,D"' } }],
    factory_ads: ads,
  });
  const plan = planCycle(policy, snap, 1_790_000_000);
  const factories = new Map(ads.map((a) => factoryEntryInfo(a)!).map((f) => [f.name, f]));
  const credentials = new Map([["/tmp/proxy", PROXY]]);
  return { config, policy, plan, factories, credentials };
}

test("one GlideClient per wanted entry, named <entry>@<frontend>.<group>, with the request", () => {
  const { ads, skipped } = buildGlideClientAds(setup());
  const byName = new Map(ads.map((a) => [a.evaluate("Name"), a]));
  assert.deepEqual([...byName.keys()].sort(), ["ea@gf@factoryA@fe.main", "eb@gf@factoryB@fe.main"]);
  const a = byName.get("ea@gf@factoryA@fe.main")!;
  assert.equal(a.evaluate("MyType"), "GlideClient");
  assert.equal(a.evaluate("ClientName"), "fe.main");
  assert.equal(a.evaluate("GroupName"), "main");
  assert.equal(a.evaluate("ReqName"), "ea@gf@factoryA");
  assert.equal(a.evaluate("ReqGlidein"), "ea@gf@factoryA");
  assert.equal(a.evaluate("ReqRemoveExcess"), "NO");
  assert.equal(a.evaluate("ReqRemoveExcessMargin"), 2);
  assert.equal(a.evaluate("ReqIdleLifetime"), 3600);
  assert.equal(typeof a.evaluate("ReqIdleGlideins"), "number");
  assert.equal(typeof a.evaluate("ReqMaxGlideins"), "number");
  assert.equal(a.evaluate("GlideinParamGLIDEIN_Collector"), "wss://collector.example.org:9618");
  assert.equal(a.evaluate("GlideinParamGLIDEIN_Schedds"), "wss://schedd.example.org:9619");
  assert.equal(a.evaluate("GLIDEIN_Start"), "TARGET.RequestCpus == 1");
  assert.equal(a.evaluate("GlideinSecurityClass"), "frontend");
  assert.equal(a.evaluate("ReqPubKeyID"), pubKeyId(factoryA.publicKey));
  assert.deepEqual(skipped.map((s) => s.entry).sort(), ["ec@gf@factoryB", "ed@gf@factoryB"]);
  assert.match(skipped.find((s) => s.entry === "ec@gf@factoryB")!.reason, /trust domain "cloud"/);
  assert.match(skipped.find((s) => s.entry === "ed@gf@factoryB")!.reason, /PubKeyValue/);
});

test("the credential decrypts only with that factory's private key", () => {
  const { ads } = buildGlideClientAds(setup());
  const byName = new Map(ads.map((a) => [a.evaluate("Name"), a]));
  const forA = byName
    .get("ea@gf@factoryA@fe.main")!
    .evaluate("GlideinEncParamCredential") as string;
  const forB = byName
    .get("eb@gf@factoryB@fe.main")!
    .evaluate("GlideinEncParamCredential") as string;
  assert.deepEqual(decryptCredential(forA, factoryA.privateKey), PROXY);
  assert.deepEqual(decryptCredential(forB, factoryB.privateKey), PROXY);
  assert.throws(() => decryptCredential(forA, factoryB.privateKey), /encrypted for key/);
  assert.throws(() => decryptCredential(forB, factoryA.privateKey), /encrypted for key/);
  const identity = byName.get("ea@gf@factoryA@fe.main")!.evaluate("ReqEncIdentity") as string;
  assert.equal(decryptCredential(identity, factoryA.privateKey).toString(), "/CN=fe");
});

test("ads of entries no longer wanted are withdrawn", () => {
  const { ads } = buildGlideClientAds(setup());
  const previous = [
    "ea@gf@factoryA@fe.main",
    "gone@gf@factoryA@fe.main",
    "unwanted@gf@factoryA@fe.main",
  ];
  assert.deepEqual(adsToWithdraw(previous, ads), [
    "gone@gf@factoryA@fe.main",
    "unwanted@gf@factoryA@fe.main",
  ]);
});

test("one GlideResource per entry with jobs, pilots and the limits hit", () => {
  const s = setup();
  const ads = buildGlideResourceAds(s.config, s.policy, s.plan);
  assert.equal(ads.length, 5);
  const a = ads.find((x) => x.evaluate("GlideFactoryEntry") === "ea@gf@factoryA")!;
  assert.equal(a.evaluate("MyType"), "GlideResource");
  assert.equal(a.evaluate("GlideClientMonitorJobsIdle"), 9);
  assert.equal(a.evaluate("GlideClientMonitorJobsIdleMatching"), 3);
  assert.equal(a.evaluate("GlideClientMonitorJobsIdleUnique"), 0);
  assert.equal(a.evaluate("GlideClientMonitorGlideinsRunning"), 0);
  assert.match(a.evaluate("GlideClientLimitsTriggered") as string, /ramp-up/);
});

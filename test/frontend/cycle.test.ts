import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { createCredentialSealer } from "../../src/frontend/credential-seal.js";
import { runCycle } from "../../src/frontend/cycle.js";
import { entryAd, minimalConfig, snapshot } from "./helpers.js";

test("a cycle plans every group, builds its ads and withdraws the ones no longer wanted", () => {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const config = minimalConfig(`  - name: other
    enabled: false
`);
  const snap = snapshot({
    autoclusters: [{ id: "1", schedd: "s", count: 3, job: { DESIRED_Sites: '"A"' } }],
    factory_ads: [
      entryAd("a@g@f", { GLIDEIN_Site: "A", PubKeyValue: pem }),
      entryAd("b@g@f", { GLIDEIN_Site: "B", PubKeyValue: pem }),
    ],
  });
  const r = runCycle({
    config,
    snapshot: snap,
    credentials: new Map([["/tmp/proxy", Buffer.from("proxy")]]),
    previousClientAds: ["a@g@f@fe.main", "b@g@f@fe.main"],
    now: 1_790_000_000,
  });
  assert.deepEqual(
    r.plans.map((p) => p.group),
    ["main"],
    "disabled groups are skipped",
  );
  assert.deepEqual(
    r.glideClientAds.map((a) => a.evaluate("Name")),
    ["a@g@f@fe.main"],
  );
  assert.equal(r.glideResourceAds.length, 2);
  assert.deepEqual(r.withdraw, ["b@g@f@fe.main"]);
  assert.deepEqual(r.skipped, []);
});

test("the same snapshot gives the same requests (a restart changes nothing)", () => {
  const config = minimalConfig();
  const input = {
    autoclusters: [{ id: "1", schedd: "s", count: 40, job: { DESIRED_Sites: '"A,B"' } }],
    factory_ads: [entryAd("a@g@f", { GLIDEIN_Site: "A" }), entryAd("b@g@f", { GLIDEIN_Site: "B" })],
  };
  const plan = () =>
    runCycle({
      config,
      snapshot: snapshot(input),
      credentials: new Map(),
      previousClientAds: [],
      now: 1,
    }).plans;
  assert.deepEqual(plan(), plan());
});

test("an unchanged credential keeps its ciphertext from cycle to cycle; a renewed one or a new key does not", () => {
  const keyPem = () =>
    generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
  const [k1, k2] = [keyPem(), keyPem()];
  const config = minimalConfig();
  const sealer = createCredentialSealer();
  const cycle = (proxy: string, key: string) => {
    const snap = snapshot({
      autoclusters: [{ id: "1", schedd: "s", count: 3, job: { DESIRED_Sites: '"A"' } }],
      factory_ads: [entryAd("a@g@f", { GLIDEIN_Site: "A", PubKeyValue: key })],
    });
    const [ad] = runCycle({
      config,
      snapshot: snap,
      credentials: new Map([["/tmp/proxy", Buffer.from(proxy)]]),
      sealer,
      previousClientAds: [],
      now: 1_790_000_000,
    }).glideClientAds;
    return [ad!.evaluate("GlideinEncParamCredential"), ad!.evaluate("ReqEncIdentity")];
  };
  const first = cycle("proxy v1", k1);
  assert.deepEqual(cycle("proxy v1", k1), first, "same credential, same key: same texts");
  const renewed = cycle("proxy v2", k1);
  assert.notEqual(renewed[0], first[0], "a renewed proxy is encrypted anew");
  assert.equal(renewed[1], first[1], "the identity did not change");
  const rekeyed = cycle("proxy v2", k2);
  assert.notEqual(rekeyed[0], renewed[0]);
  assert.notEqual(rekeyed[1], renewed[1]);
  // Without a kept sealer every cycle encrypts anew (the ciphertext is randomised).
  const once = () =>
    runCycle({
      config,
      snapshot: snapshot({
        autoclusters: [{ id: "1", schedd: "s", count: 3, job: { DESIRED_Sites: '"A"' } }],
        factory_ads: [entryAd("a@g@f", { GLIDEIN_Site: "A", PubKeyValue: k1 })],
      }),
      credentials: new Map([["/tmp/proxy", Buffer.from("proxy v1")]]),
      previousClientAds: [],
      now: 1_790_000_000,
    }).glideClientAds[0]!.evaluate("GlideinEncParamCredential");
  assert.notEqual(once(), once());
});

test("the sealer forgets what a whole cycle did not use", () => {
  let encryptions = 0;
  const sealer = createCredentialSealer((plain, key) => `${String(plain)}|${key}|${++encryptions}`);
  assert.equal(sealer.seal("c", "k"), "c|k|1");
  assert.equal(sealer.seal("c", "k"), "c|k|1");
  sealer.endCycle();
  assert.equal(sealer.seal("c", "k"), "c|k|1", "used last cycle: kept");
  sealer.endCycle();
  sealer.endCycle(); // a cycle that did not use it
  assert.equal(sealer.seal("c", "k"), "c|k|2");
  assert.equal(encryptions, 2);
});

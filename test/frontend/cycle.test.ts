import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
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

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ClassAd } from "../../src/classad/index.js";
import { CollectorCore } from "../../src/collector/collector.js";
import { ManualClock } from "../../src/common/clock.js";

const core = new CollectorCore({
  clock: new ManualClock(),
  writeRolesFor: () => ["pilot"],
  lifetimeFor: () => 900,
  maxLifetime: 3600,
  limits: { maxAdBytes: 1e6, maxAttributes: 1000, maxAdsPerIdentity: 1e6 },
  name: "c",
  identity: "/CN=c",
});
const pilot = { identity: "/CN=p", roles: new Set(["pilot"]) };

const CONSTRAINTS = [
  'Site == "A" && Cpus >= 2',
  '(Site == "a") && (Memory > 1000 || Cpus == 1)',
  "Cpus * 2 > Memory / 1000 && Site =!= undefined",
  'Site =?= "A" && State == "Idle" && Cpus > 1',
  "Missing == 3 && Cpus > 0",
  "Cpus >= 2 && Memory",
  "Memory >= 2000 && time() > 0",
  "Cpus > 1 && Derived > 4",
];

test("the early rejection never changes a query's answer", () => {
  const value = fc.oneof(
    fc.constantFrom(
      '"A"',
      '"a"',
      '"B"',
      "undefined",
      "error",
      "1",
      "2",
      "4",
      "2048",
      "0.5",
      "true",
      '"Idle"',
    ),
    fc.constantFrom("Cpus * 2", "Memory", "Site"),
  );
  const ad = fc.record(
    { Site: value, Cpus: value, Memory: value, State: value, Derived: value },
    { requiredKeys: [] },
  );
  let n = 0;
  fc.assert(
    fc.property(fc.array(ad, { minLength: 1, maxLength: 20 }), (ads) => {
      const batch = ads.map((a) => ({ MyType: '"Prop"', Name: `"p${n++}"`, ...a }));
      const outcomes = core.advertise(batch, "", pilot);
      // Outcomes answer by position: the stored ads are the accepted ones of the batch.
      const stored = batch
        .filter((_, i) => outcomes[i]!.ok)
        .map((a) => JSON.parse(a.Name) as string);
      for (const text of CONSTRAINTS) {
        const c = core.constraint(text);
        assert.ok(c.ok);
        for (const name of stored) {
          const held = core.store.get("Prop", name)!.ad;
          const plain = ClassAd.fromJSON(
            Object.fromEntries([...held.attributeExprs()].map(([k]) => [k, held.toJSON()[k]!])),
          );
          const v = plain.evaluateExpr(text);
          assert.equal(
            c.test(held),
            v === true || (typeof v === "number" && v !== 0),
            `${text} on ${held.toString()}`,
          );
        }
      }
    }),
    { numRuns: 150 },
  );
});

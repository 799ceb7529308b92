import assert from "node:assert/strict";
import { test } from "node:test";
import { CollectorCore } from "../../src/collector/collector.js";
import { projectAd } from "../../src/collector/ad-build.js";
import { collectorCodecs } from "../../src/collector/service.js";
import { decodeAdBatch } from "../../src/collector/wire-batch.js";
import { ManualClock } from "../../src/common/clock.js";

function core(): CollectorCore {
  return new CollectorCore({
    clock: new ManualClock(),
    writeRolesFor: () => ["pilot"],
    lifetimeFor: () => 900,
    maxLifetime: 3600,
    limits: { maxAdBytes: 1e6, maxAttributes: 1000, maxAdsPerIdentity: 1e6 },
    name: "c",
    identity: "/CN=c",
  });
}
const pilot = { identity: "/CN=p", roles: new Set(["pilot"]) };

function send(c: CollectorCore, ads: Record<string, string>[]) {
  return c.advertiseBatch(
    decodeAdBatch(collectorCodecs.batch.encode({ ads: ads.map((attrs) => ({ attrs })), type: "" })),
    pilot,
  );
}

function held(c: CollectorCore, name: string): Record<string, string> {
  const ad = projectAd(c.store.get("Slot", name)!.ad, []);
  delete ad.AuthenticatedIdentity;
  delete ad.LastHeardFrom;
  return ad;
}

test("a replacement holds exactly the new ad, whatever its order, changes and duplicates", () => {
  const c = core();
  const first = { MyType: '"Slot"', Name: '"s1"', A: "1", B: '"x"', C: "A + 1", Same: "true" };
  assert.ok(send(c, [first])[0]!.ok);
  assert.deepEqual(held(c, "s1"), first);

  const reordered = {
    Name: '"s1"',
    C: "A + 2",
    MyType: '"Slot"',
    Same: "true",
    A: "1",
    D: '"new"',
  };
  assert.ok(send(c, [reordered])[0]!.ok);
  assert.deepEqual(held(c, "s1"), reordered);
  assert.equal(c.store.get("Slot", "s1")!.ad.evaluate("C"), 3);

  const fewer = { MyType: '"Slot"', Name: '"s1"' };
  assert.ok(send(c, [fewer])[0]!.ok);
  assert.deepEqual(held(c, "s1"), fewer);

  // Entries unchanged from the replaced ad are the very same objects (parsed once).
  const again = { ...first };
  send(c, [first]);
  const a = c.store.get("Slot", "s1")!.ad.entries.get("c");
  send(c, [again]);
  assert.equal(c.store.get("Slot", "s1")!.ad.entries.get("c"), a);
});

test("an ad whose Name is escaped or an expression is handled without the reuse hint", () => {
  const c = core();
  const escaped = { MyType: '"Slot"', Name: '"a\\"b"', X: "1" };
  assert.ok(send(c, [escaped])[0]!.ok);
  assert.ok(send(c, [{ ...escaped, X: "2" }])[0]!.replaced);
  assert.equal(c.store.get("Slot", 'a"b')!.ad.evaluate("X"), 2);
  const expr = send(c, [{ MyType: '"Slot"', Name: 'strcat("a", "b")' }]);
  assert.deepEqual([expr[0]!.ok, expr[0]!.attribute], [false, "Name"]);
});

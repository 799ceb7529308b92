/**
 * Two real collectors as one highly available pair: ads go to both, reads come from one, and
 * when one collector stops, advertising, queries and watches go on at the other without an ad
 * being seen twice.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  connectCollectorSet,
  createCollectorSet,
  mergeAdOutcomes,
  mergeInvalidateOutcomes,
  type CollectorSet,
} from "../../src/collector/collector-set.js";
import {
  connectAs,
  createPool,
  type Pool,
  type Running,
  slotAd,
  startCollector,
} from "./harness.js";

let pool: Pool;
let a: Running;
let b: Running;

before(async () => {
  pool = createPool();
  a = await startCollector(pool);
  b = await startCollector(pool);
});

after(async () => {
  await Promise.all(sets.map((s) => s.close()));
  await a.stop().catch(() => {});
  await b.stop();
  pool.cleanup();
});

const sets: { close(): Promise<void> }[] = [];

/** The pair as `who` sees it, over connections of its own that outlive a collector's death. */
function pair(who: "pilot" | "reader", onFailure?: (url: string) => void): CollectorSet {
  const set = connectCollectorSet([a.url, b.url], (url) => connectAs(pool, url, who), {
    onFailure,
  });
  sets.push(set);
  return set.collector;
}

const names = (ads: Record<string, string>[]) => ads.map((ad) => ad.Name).sort();

test("an ad advertised through the pair is held by both, read once, and read on after one stops", async () => {
  const failures: string[] = [];
  const writer = pair("pilot");
  const reader = pair("reader", (url) => failures.push(url));
  const [outcome] = await writer.advertise([slotAd(1)], "Slot");
  assert.equal(outcome?.ok, true);
  // The first answer is enough for the caller; the other collector gets the ad too.
  const at = async (r: Running) => names(await r.as("reader").query({ type: "Slot" }));
  for (const r of [a, b]) {
    for (let i = 0; i < 200 && (await at(r)).length === 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.deepEqual(await at(r), [slotAd(1).Name]);
  }
  assert.deepEqual(names(await reader.query({ type: "Slot" })), [slotAd(1).Name], "read once");
  assert.equal(reader.current(), a.url);

  // A watch opened on the first collector moves to the second when the first stops.
  const watched: string[] = [];
  const iterator = reader.watch({ type: "Slot" })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await iterator.next();
    assert.ok(!r.done, "the watch ended");
    watched.push(r.value.kind);
    return r.value;
  };
  assert.equal((await next()).kind, "present");
  assert.equal((await next()).kind, "synced");

  // The first collector dies; the clients' connections to it stay, reconnecting in vain.
  await a.daemon.stop();
  // The watch fails over: the second collector's ads come as present again, then synced.
  assert.equal((await next()).kind, "present");
  assert.equal((await next()).kind, "synced");

  const later = await writer.advertise([slotAd(2)], "Slot", { deadlineMs: 20_000 });
  assert.equal(later[0]?.ok, true, "advertising goes on at the surviving collector");
  // No deadline given: the read goes to the collector that is up, not to wait for the dead one.
  assert.deepEqual(
    names(await reader.query({ type: "Slot" })),
    [slotAd(1).Name, slotAd(2).Name].sort(),
    "each ad once, from the surviving collector",
  );
  assert.equal(reader.current(), b.url);
  assert.ok(failures.includes(a.url), "the failed collector was reported");
  const change = await next();
  assert.equal(change.kind, "upserted");
  assert.equal(change.ad?.Name, slotAd(2).Name);
  await iterator.return?.();
});

test("with one collector of a pair stopped, advertise and invalidate answer with the live one's outcome without waiting for the dead one", async () => {
  const one = await startCollector(pool);
  const two = await startCollector(pool);
  const failed: string[] = [];
  // The pilot's wiring (connectCollectorSet), and a set of plain clients that say nothing of
  // their connection.
  const wired = connectCollectorSet([one.url, two.url], (url) => connectAs(pool, url, "pilot"), {
    onFailure: (url, err) => failed.push(`${url} ${String(err)}`),
  });
  sets.push(wired);
  const plain = createCollectorSet(
    [one, two].map((r) => ({ url: r.url, client: r.as("pilot") })),
    { onFailure: (url, err) => failed.push(`${url} ${String(err)}`) },
  );
  try {
    for (const set of [wired.collector, plain]) {
      const [first] = await set.advertise([slotAd(50)], "Slot", { deadlineMs: 20_000 });
      assert.equal(first?.ok, true);
    }
    // Both collectors hold the ad (a set may answer before the second one did) before one stops.
    for (const r of [one, two]) {
      for (let i = 0; i < 200 && (await r.as("reader").query({ type: "Slot" })).length === 0; i++) {
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    await one.daemon.stop();
    // A call to the stopped collector waits for its reconnection until the deadline; the set
    // answers with the live collector's outcome without waiting for it.
    const deadlineMs = 30_000;
    for (const set of [wired.collector, plain]) {
      const [taken] = await set.advertise([slotAd(51)], "Slot", { deadlineMs });
      assert.equal(taken?.ok, true, "the live collector took the ad");
      assert.equal(taken?.code, "", "only the live collector's outcome is merged");
      const name = JSON.parse(slotAd(50).Name!) as string;
      const gone = await set.invalidate({ type: "Slot", name }, { deadlineMs });
      assert.equal(gone.refused, 0);
    }
    // Had the set waited for the stopped collector, its calls would have failed at their
    // deadline (and been reported) before the set answered. A call already on the wire when the
    // connection dropped fails at once, which is as it should be.
    assert.deepEqual(
      failed.filter((f) => /DeadlineExceeded/.test(f) || f.startsWith(two.url)),
      [],
      "no call was held until its deadline, and the live collector failed none",
    );
    assert.deepEqual(names(await two.as("reader").query({ type: "Slot" })), [slotAd(51).Name]);
  } finally {
    await one.stop().catch(() => {});
    await two.stop();
  }
});

test("an ad one collector refuses and another takes is reported taken, naming the refusal", async () => {
  // A collector holding only small ads, beside `b` which holds any.
  const small = await startCollector(pool, pool.config({ limits: { max_ad_bytes: 600 } }));
  try {
    const set = connectCollectorSet([small.url, b.url], (url) => connectAs(pool, url, "pilot"));
    sets.push(set);
    // Collectors whose connection is still coming up are not waited for: let both come up.
    const [fits] = await set.collector.advertise([slotAd(41)], "Slot", { deadlineMs: 20_000 });
    assert.equal(fits?.ok, true);
    for (
      let i = 0;
      i < 200 && (await small.as("reader").query({ type: "Slot" })).length === 0;
      i++
    ) {
      await new Promise((res) => setTimeout(res, 50));
    }
    const big = slotAd(40, { Padding: `"${"x".repeat(2000)}"` });
    const [again, partial] = await set.collector.advertise([slotAd(41), big], "Slot", {
      deadlineMs: 20_000,
    });
    assert.equal(again?.ok, true);
    assert.equal(again?.code, "", "taken by both: nothing to report");
    assert.equal(partial?.ok, true, "the pool holds it: b took it");
    assert.notEqual(partial?.code, "");
    assert.match(partial!.message, new RegExp(`refused at ${small.url}`));
    assert.match(partial!.message, new RegExp(`taken at ${b.url}`));
    assert.deepEqual(
      names(await small.as("reader").query({ type: "Slot", constraint: `Name == ${big.Name}` })),
      [],
    );
  } finally {
    await small.stop();
  }
});

test("outcomes merge per ad: taken anywhere is ok, refused everywhere names each reason", () => {
  const ok = {
    ok: true,
    code: "",
    message: "",
    attribute: "",
    replaced: false,
    type: "",
    name: "",
  };
  const no = (message: string) => ({ ...ok, ok: false, code: "invalid-argument", message });
  assert.deepEqual(mergeAdOutcomes(["wss://a/", "wss://b/"], [[ok], [ok]]), [ok]);
  const [both] = mergeAdOutcomes(["wss://a/", "wss://b/"], [[no("too big")], [no("no role")]]);
  assert.equal(both?.ok, false);
  assert.equal(both?.message, "refused at wss://a/: too big; refused at wss://b/: no role");
  const [same] = mergeAdOutcomes(["wss://a/", "wss://b/"], [[no("too big")], [no("too big")]]);
  assert.equal(same?.message, "too big");
  const [one] = mergeAdOutcomes(["wss://a/", "wss://b/"], [[ok], [no("no role")]]);
  assert.equal(one?.ok, true);
  assert.equal(one?.message, "taken at wss://a/; refused at wss://b/: no role");
  const inv = mergeInvalidateOutcomes(
    ["wss://a/", "wss://b/"],
    [
      { removed: 2, refused: 0, message: "" },
      { removed: 1, refused: 1, message: "not yours" },
    ],
  );
  assert.deepEqual(inv, { removed: 2, refused: 1, message: "wss://b/: not yours" });
});

test("when every collector of the set is gone, reads and writes fail", async () => {
  await a.stop();
  const gone = createCollectorSet([{ url: a.url, client: a.as("reader") }]);
  await assert.rejects(gone.query({ type: "Slot" }, { deadlineMs: 2_000 }));
  await assert.rejects(gone.advertise([slotAd(3)], "Slot", { deadlineMs: 2_000 }));
});

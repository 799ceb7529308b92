/**
 * Goodput's denominator and the failures list, from the factory: core-seconds accrued per entry
 * from the running pilots each poll counts, and the last failed pilots of each entry (kept in
 * the factory's store across a restart), both in the entry's GlideFactory ad and the
 * core-seconds on /metrics.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { after, before, test } from "node:test";
import { readRecentFailures } from "../../src/ads/index.js";
import { ClassAd } from "../../src/classad/index.js";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { PILOT_CORE_SECONDS, PilotCoreTime } from "../../src/factory/pilot-core-time.js";
import { RECENT_PER_ENTRY, RecentFailures } from "../../src/factory/recent-failures.js";
import { FactoryStore } from "../../src/factory/store.js";
import { createFactoryWorld, type FactoryWorld, silent } from "./factory-harness.js";

test("core-seconds: running pilots times cores times the time since the last cycle", () => {
  const t = new PilotCoreTime(60_000);
  const cores = (e: string) => (e === "big" ? 8 : 1);
  assert.deepEqual(t.accrue(1_000, [["big", 2]], cores), new Map(), "the first call starts");
  assert.deepEqual(
    t.accrue(
      31_000,
      [
        ["big", 2],
        ["small", 3],
        ["none", 0],
      ],
      cores,
    ),
    new Map([
      ["big", 480],
      ["small", 90],
    ]),
  );
  // Fractions are carried: 1 pilot × 1 core × 0.4 s three times is 1 whole second, then 0.2 left.
  const u = new PilotCoreTime(60_000);
  u.accrue(0, [], cores);
  const got = [400, 800, 1200].map((at) => u.accrue(at, [["small", 1]], cores).get("small") ?? 0);
  assert.deepEqual(got, [0, 0, 1]);
  // A factory that did not cycle for an hour counts at most three cycles of it.
  assert.equal(u.accrue(1200 + 3_600_000, [["small", 1]], cores).get("small"), 180);
  // A clock stepped back counts nothing.
  assert.deepEqual(u.accrue(0, [["small", 1]], cores), new Map());
});

test("recent failures: the newest few per entry, newest first", () => {
  const r = new RecentFailures();
  for (let i = 0; i < RECENT_PER_ENTRY + 2; i++)
    r.note("e", { at: i, client: "c", failureClass: "Config", error: `pilot ${i}` });
  assert.deepEqual(
    r.of("e").map((f) => f.at),
    [6, 5, 4, 3, 2],
  );
  assert.deepEqual(r.of("other"), []);
});

test("recent failures kept in the factory's store outlive it: the newest few per entry", () => {
  const dir = mkdtempSync(join(tmpdir(), "recent-failures-"));
  try {
    const file = join(dir, "factory.db");
    const store = new FactoryStore(file);
    const r = new RecentFailures(store);
    for (let i = 0; i < RECENT_PER_ENTRY + 2; i++)
      store.transaction(() =>
        r.note(i % 2 === 0 ? "e" : "f", {
          at: i,
          client: "c",
          failureClass: "Network",
          error: `pilot ${i}`,
        }),
      );
    store.close();
    const reopened = new FactoryStore(file);
    const again = new RecentFailures(reopened);
    assert.deepEqual(
      again.of("e").map((f) => f.at),
      [6, 4, 2, 0],
    );
    assert.deepEqual(again.of("f")[0], {
      at: 5,
      client: "c",
      failureClass: "Network",
      error: "pilot 5",
    });
    // Beyond the few per entry, the oldest rows are deleted, not only hidden.
    for (let i = 10; i < 20; i++)
      again.note("e", { at: i, client: "c", failureClass: "Config", error: "x" });
    assert.equal(reopened.recentFailures().filter((x) => x.entry === "e").length, RECENT_PER_ENTRY);
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a GlideFactory ad's failures list is read without what is malformed, and bounded", () => {
  const ad = ClassAd.parse(
    '[ GlideinMonitorRecentFailures = { [ Time = 100; Client = "c"; FailureClass = "Config"; ' +
      'Message = "pilot 1 failed" ], [ Time = "x"; Client = "c"; FailureClass = "A"; Message = "" ], ' +
      '[ Time = 1; Client = "c"; FailureClass = "A" ], 7, [ Time = 2; Client = "d"; ' +
      'FailureClass = "Network"; Message = "m" ] } ]',
  );
  assert.deepEqual(readRecentFailures(ad), [
    { timeS: 100, client: "c", failureClass: "Config", error: "pilot 1 failed" },
    { timeS: 2, client: "d", failureClass: "Network", error: "m" },
  ]);
  assert.equal(readRecentFailures(ad, 1).length, 1);
  assert.deepEqual(readRecentFailures(ClassAd.parse("[ GlideinMonitorRecentFailures = 3 ]")), []);
});

let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
});
after(async () => {
  await w.cleanup();
});

const report =
  'echo "=== Pilot report begin ==="\n' +
  `echo '{"version":1,"pilotId":"p1","host":"h","startedAt":"","endedAt":"","idleS":0,` +
  `"validation":{"ok":false,"checks":[],"failure":{"class":"WN_Resource","message":"scratch <b>full</b>"}},` +
  `"jobs":[],"durationS":1,"exit":{"reason":"validation","code":13,"failureClass":"WN_Resource"}}'\n` +
  'echo "=== Pilot report end ==="\nexit 13\n';

async function until(fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a factory advertises its entry's pilot core-seconds and last failed pilots", async () => {
  let now = Date.parse("2026-12-07T05:00:00Z");
  const cfg = w.config({
    top: { work_dir: join(w.dir, "work-goodput") },
    // Running long enough for a poll to see them, then failing validation.
    pilotScript: `sleep 4\n${report}`,
  });
  cfg.entries[0]!.pilot!.cpus = 2;
  const frontend = w.collector.as("frontend");
  await frontend.advertise([w.glideClient()], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent, now: () => now });
  let stopped: Promise<void> | undefined;
  const stopFirst = () => (stopped ??= daemon.stop());
  const coreSeconds = () =>
    [...daemon.store.countersNamed(PILOT_CORE_SECONDS)].reduce((n, r) => n + r.value, 0);
  try {
    await daemon.start();
    // Each cycle a minute later: the pilots the last poll saw running held 2 cores each.
    await until(async () => {
      now += 60_000;
      await daemon.cycle();
      return coreSeconds() > 0;
    });
    assert.equal(coreSeconds() % 120, 0, `${coreSeconds()} core-seconds`);
    await until(async () => {
      now += 1000;
      await daemon.cycle();
      return daemon.store.counters().some((c) => c.name === "failed" && c.value >= 1);
    });
    const [fad] = await w.collector.as("reader").query({ type: "GlideFactory" });
    const ad = ClassAd.fromJSON(fad!);
    assert.equal(ad.evaluate("GlideinMonitorPilotCoreSeconds"), coreSeconds());
    const failures = readRecentFailures(ad);
    assert.ok(failures.length >= 1);
    assert.equal(failures[0]!.client, "fe.main");
    assert.equal(failures[0]!.failureClass, "WN_Resource");
    assert.match(failures[0]!.error, /^pilot \d+ failed \(exit 13, validation, WN_Resource\)/);
    assert.ok(failures[0]!.error.includes("scratch <b>full</b>"));
    assert.ok(Math.abs(failures[0]!.timeS * 1000 - now) < 60_000);
    // The per-entry counter makes no row of its own in `updraft factory status`.
    assert.ok(daemon.store.counters().some((c) => c.client === "" && c.value > 0));
    // A restarted factory lists the failures from before: its first ad, after stop withdrew
    // the last one, carries them.
    await stopFirst();
    assert.deepEqual(await w.collector.as("reader").query({ type: "GlideFactory" }), []);
    const restarted = createFactoryDaemon(cfg, { logger: silent, now: () => now });
    try {
      await restarted.start();
      await restarted.cycle();
      const [again] = await w.collector.as("reader").query({ type: "GlideFactory" });
      // Another pilot may fail in the restarted factory's first poll and come first; the one
      // recorded before the restart must still be listed, read back from the database.
      const listed = readRecentFailures(ClassAd.fromJSON(again!));
      assert.ok(
        listed.some((f) => isDeepStrictEqual(f, failures[0])),
        `${JSON.stringify(failures[0])} in ${JSON.stringify(listed)}`,
      );
    } finally {
      await restarted.stop();
    }
  } finally {
    await stopFirst();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
  }
});

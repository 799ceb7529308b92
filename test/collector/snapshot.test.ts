import assert from "node:assert/strict";
import { join } from "node:path";
import Database from "better-sqlite3";
import { after, before, test } from "node:test";
import { createCollectorDaemon } from "../../src/collector/daemon.js";
import { createCollectorClient } from "../../src/collector/client.js";
import { openSnapshot } from "../../src/collector/snapshot.js";
import { hasErrorCode } from "../../src/common/errors.js";
import {
  DN,
  ManualTimers,
  type Running,
  connectAs,
  createPool,
  type Pool,
  slotAd,
  startCollector,
  tempDir,
} from "./harness.js";

let pool: Pool;
let tmp: ReturnType<typeof tempDir>;

before(() => {
  pool = createPool();
  tmp = tempDir();
});
after(() => {
  tmp.cleanup();
  pool.cleanup();
});

test("a restarted collector reloads its snapshot with ages preserved and expired ads dropped", async () => {
  const config = pool.config({
    snapshot: { path: join(tmp.dir, "collector.sqlite"), period_s: 60 },
    lifetime: { default_s: 900, per_type: { Slot: 300 } },
  });
  const first = await startCollector(pool, config);
  await first.as("pilot").advertise([slotAd(1)]);
  first.timers.advance(200_000);
  await first.as("pilot").advertise([slotAd(2)]);
  await first.as("factory").advertise([{ MyType: '"GlideFactory"', Name: '"entry_s"' }]);
  const before = await first.as("reader").query({ constraint: 'MyType =!= "Collector"' });
  const heard1 = before.find((a) => a.Name === '"slot1@glidein_1@wn1.example.org"')!.LastHeardFrom;
  const stoppedAt = first.clock.now();
  await first.stop(); // writes the snapshot

  // 150 s later: slot 1 (heard 350 s ago, lifetime 300 s) is gone; slot 2 and the factory ad stay.
  const clock = first.clock;
  clock.advance(150_000);
  const timers = new ManualTimers(clock);
  const second = createCollectorDaemon(config, { clock, timers });
  const url = (await second.start()).replace("127.0.0.1", "localhost");
  const rpc = connectAs(pool, url, "reader");
  try {
    const reader = createCollectorClient(rpc);
    const after = await reader.query({ constraint: 'MyType =!= "Collector"' });
    const names = after.map((a) => a.Name).sort();
    assert.deepEqual(names, ['"entry_s"', '"slot1@glidein_2@wn2.example.org"']);
    const slot2 = after.find((a) => a.Name === '"slot1@glidein_2@wn2.example.org"')!;
    assert.equal(slot2.LastHeardFrom, String(Math.floor(stoppedAt / 1000)));
    assert.equal(
      slot2.AuthenticatedIdentity,
      JSON.stringify("/DC=org/DC=example/OU=Pilots/CN=pilot"),
    );
    assert.notEqual(heard1, slot2.LastHeardFrom);
    // The restored deadline holds: slot 2 goes 300 s after it was last heard, not after restart.
    timers.advance(150_001);
    const later = await reader.query({ type: "Slot" });
    assert.equal(later.length, 0);
    // The owner is kept: another pilot still cannot replace the factory's or the pilot's ads.
    const frontend = connectAs(pool, url, "frontend");
    const [refused] = await createCollectorClient(frontend).advertise([
      { MyType: '"GlideFactory"', Name: '"entry_s"' },
    ]);
    await frontend.close();
    assert.equal(refused!.ok, false);
  } finally {
    await rpc.close();
    await second.stop();
  }
});

test("ads of one name from two writers both come back from a snapshot, and a first-version snapshot still loads", async () => {
  const path = join(tmp.dir, "per-writer.sqlite");
  // A snapshot as the previous release wrote it: keyed by type and name only.
  const old = new Database(path);
  old.exec(`CREATE TABLE ads (
    type TEXT NOT NULL, name TEXT NOT NULL, identity TEXT NOT NULL,
    last_heard INTEGER NOT NULL, expires_at INTEGER NOT NULL, attrs TEXT NOT NULL,
    PRIMARY KEY (type, name))`);
  old.pragma("user_version = 1");
  const t0 = Date.UTC(2026, 10, 23, 12, 0, 0);
  old
    .prepare("INSERT INTO ads VALUES (?, ?, ?, ?, ?, ?)")
    .run(
      "glidefactory",
      "entry_v1",
      DN.factory,
      t0,
      t0 + 900_000,
      JSON.stringify({ MyType: '"GlideFactory"', Name: '"entry_v1"' }),
    );
  old.close();
  // The reader stands for a second frontend here.
  const rules = [
    { identity: DN.frontend, roles: ["frontend", "read"] },
    { identity: DN.reader, roles: ["frontend", "read"] },
    { identity: DN.factory, roles: ["factory", "read"] },
  ];
  const config = pool.config({
    snapshot: { path, period_s: 60 },
    authorization: { rules },
  });
  const credential = (v: string) => ({
    MyType: '"PilotCredential"',
    Name: '"pilot-1"',
    UpdraftTokenNotAfter: v,
  });
  const ads = async (c: Running) =>
    (await c.as("factory").query({ constraint: 'MyType =!= "Collector"' }))
      .map((a) => `${a.Name} ${a.AuthenticatedIdentity} ${a.UpdraftTokenNotAfter ?? ""}`)
      .sort();
  const first = await startCollector(pool, config);
  let held: string[];
  try {
    const [squat] = await first.as("reader").advertise([credential("1")]);
    const [own] = await first.as("frontend").advertise([credential("2")]);
    assert.ok(squat?.ok && own?.ok, JSON.stringify([squat, own]));
    held = await ads(first);
    assert.deepEqual(held, [
      `"entry_v1" ${JSON.stringify(DN.factory)} `,
      `"pilot-1" ${JSON.stringify(DN.reader)} 1`,
      `"pilot-1" ${JSON.stringify(DN.frontend)} 2`,
    ]);
  } finally {
    await first.stop();
  }
  const second = await startCollector(pool, config);
  try {
    assert.deepEqual(await ads(second), held);
  } finally {
    await second.stop();
  }
});

test("a snapshot of a newer schema is refused as migration-failed, naming the file", () => {
  const path = join(tmp.dir, "newer.sqlite");
  const db = new Database(path);
  db.pragma("user_version = 99");
  db.close();
  assert.throws(
    () => openSnapshot(path),
    (err) =>
      hasErrorCode(err, "migration-failed") &&
      err.message === `${path}: snapshot schema 99 is newer than this collector knows`,
  );
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCollectorDaemon } from "../../src/collector/daemon.js";
import { createCollectorClient } from "../../src/collector/client.js";
import {
  ManualTimers,
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

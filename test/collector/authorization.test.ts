import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import {
  DN,
  connectAs,
  createPool,
  type Pool,
  type Running,
  slotAd,
  startCollector,
} from "./harness.js";

let pool: Pool;
let c: Running;

before(async () => {
  pool = createPool();
  c = await startCollector(pool);
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

const factoryAd = {
  MyType: '"GlideFactory"',
  Name: '"entry_x@gfactory"',
  GLIDEIN_Site: '"Site_0"',
};

test("a frontend identity cannot write a GlideFactory ad; the factory can", async () => {
  const [refused] = await c.as("frontend").advertise([factoryAd]);
  assert.equal(refused!.ok, false);
  assert.equal(refused!.code, "permission-denied");
  assert.equal(refused!.attribute, "MyType");
  assert.match(refused!.message, /GlideFactory ads needs role factory/);
  const [ok] = await c.as("factory").advertise([factoryAd]);
  assert.equal(ok!.ok, true);
});

test("each type's default write role: GlideClient frontend, Slot pilot, Scheduler daemon, Collector nobody", async () => {
  const client = { MyType: '"GlideClient"', Name: '"main@frontend"' };
  assert.equal((await c.as("factory").advertise([client]))[0]!.ok, false);
  assert.equal((await c.as("frontend").advertise([client]))[0]!.ok, true);
  assert.equal((await c.as("frontend").advertise([slotAd(1)]))[0]!.ok, false);
  assert.equal(
    (await c.as("pilot").advertise([{ MyType: '"Scheduler"', Name: '"schedd@x"' }]))[0]!.ok,
    false,
  );
  const fake = await c
    .as("factory")
    .advertise([{ MyType: '"Collector"', Name: '"collector@test"' }]);
  assert.match(fake[0]!.message, /only by the collector itself/);
  // Other types need the configured default (daemon): no test identity has it but the admin.
  assert.equal(
    (await c.as("pilot").advertise([{ MyType: '"Custom"', Name: '"c"' }]))[0]!.ok,
    false,
  );
  assert.equal((await c.as("admin").advertise([{ MyType: '"Custom"', Name: '"c"' }]))[0]!.ok, true);
});

test("identity B cannot replace or invalidate identity A's ad; an admin can", async () => {
  await c.as("pilot").advertise([slotAd(7)]);
  const [replace] = await c.as("pilot2").advertise([slotAd(7, { State: '"Hijacked"' })]);
  assert.equal(replace!.ok, false);
  assert.equal(replace!.code, "permission-denied");
  assert.match(replace!.message, new RegExp(`belongs to ${DN.pilot}`));
  const inv = await c
    .as("pilot2")
    .invalidate({ type: "Slot", name: "slot1@glidein_7@wn7.example.org" });
  assert.deepEqual({ removed: inv.removed, refused: inv.refused }, { removed: 0, refused: 1 });
  const [ad] = await c
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_7@wn7.example.org"' });
  assert.equal(ad!.State, '"Unclaimed"');
  assert.equal(ad!.AuthenticatedIdentity, JSON.stringify(DN.pilot));
  const [admin] = await c.as("admin").advertise([slotAd(7, { State: '"Drained"' })]);
  assert.equal(admin!.ok, true);
});

test("AuthenticatedIdentity cannot be forged by the writer", async () => {
  await c.as("pilot").advertise([slotAd(8, { AuthenticatedIdentity: '"/CN=someone else"' })]);
  const [ad] = await c
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_8@wn8.example.org"' });
  assert.equal(ad!.AuthenticatedIdentity, JSON.stringify(DN.pilot));
});

test("reads need the read role", async () => {
  const other = await startCollector(
    pool,
    pool.config({
      authorization: { rules: [{ identity: DN.pilot, roles: ["pilot"] }], default_roles: ["read"] },
    }),
  );
  try {
    const rpc = connectAs(pool, other.url, "pilot");
    other.rpcs.push(rpc);
    const pilotOnly = createCollectorClient(rpc);
    await assert.rejects(pilotOnly.query({ type: "Slot" }), { code: "permission-denied" });
    assert.equal((await pilotOnly.advertise([slotAd(1)]))[0]!.ok, true);
    assert.equal((await other.as("reader").query({ type: "Slot" })).length, 1);
  } finally {
    await other.stop();
  }
});

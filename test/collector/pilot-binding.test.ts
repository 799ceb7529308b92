/**
 * A pilot token's binding at a real collector: a bound pilot's Slot ad carries the binding's
 * site, entry, group and frontend; a Slot ad that claims another site or entry is refused, so a
 * stolen pilot token cannot advertise slots for an entry it was not made for.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import { pilotBindingClaim, PILOT_BINDING_CLAIM } from "../../src/security/pilot-binding.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { createPool, slotAd, startCollector, type Pool, type Running } from "./harness.js";

const ISS = "https://frontend.example.org/pilots";
let pool: Pool;
let collector: Running;
let dir: string;

let jwksFile: string;

/** A collector that takes the test issuer's pilot tokens. */
function tokenConfig(extra: Parameters<Pool["config"]>[0] = {}) {
  const base = pool.config();
  return pool.config({
    tokens: { issuers: [{ issuer: ISS, jwks_file: jwksFile }], accept_any_audience: true },
    authorization: {
      rules: [...base.authorization.rules, { issuer: ISS, roles: ["pilot", "read"] }],
    },
    ...extra,
  });
}

before(async () => {
  pool = createPool();
  dir = mkdtempSync(join(tmpdir(), "updraft-collector-binding-"));
  const init = await initIssuerDir(join(dir, "issuer"), ISS);
  assert.ok(init.ok);
  jwksFile = init.dir.jwksFile;
  collector = await startCollector(pool, tokenConfig());
});
after(async () => {
  await collector.stop();
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function pilotClient(pilotId: string, url = collector.url) {
  const token = await issueToken(join(dir, "issuer"), {
    sub: `pilot-${pilotId}`,
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    lifetimeS: 600,
    extra: {
      [PILOT_BINDING_CLAIM]: pilotBindingClaim({
        frontend: "fe",
        group: "main",
        entry: "entry_a",
        site: "SITE_A",
        factory: "gf",
        pilotId,
      }),
    },
  });
  const rpc = createRpcClient({ url, bearerToken: token, caDir: pool.pki.caDir });
  after(() => rpc.close());
  return createCollectorClient(rpc);
}

test("a bound pilot's Slot ad gets the binding's site, entry, group and frontend", async () => {
  const c = await pilotClient("p1");
  const [o] = await c.advertise([slotAd(1, { GLIDEIN_Site: '"SITE_A"' })], "Slot");
  assert.ok(o?.ok, JSON.stringify(o));
  const [ad] = await collector
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_1@wn1.example.org"' });
  assert.ok(ad);
  assert.equal(ad.GLIDEIN_Site, '"SITE_A"');
  assert.equal(ad.GLIDEIN_Entry_Name, '"entry_a"');
  assert.equal(ad.GLIDECLIENT_Name, '"fe.main"');
  assert.equal(ad.GLIDEIN_Factory, '"gf"');
  assert.equal(ad.AuthenticatedIdentity, JSON.stringify(`${ISS}#pilot-p1`));
});

test("a Slot ad that claims another site or entry than its token's binding is refused", async () => {
  const c = await pilotClient("p2");
  const outcomes = await c.advertise(
    [
      slotAd(2, { GLIDEIN_Site: '"SITE_B"' }),
      slotAd(3, { GLIDEIN_Site: '"SITE_A"', GLIDEIN_Entry_Name: '"entry_gpu"' }),
      slotAd(4, { GLIDEIN_Site: '"SITE_A"', GLIDECLIENT_Name: '"otherfe.main"' }),
    ],
    "Slot",
  );
  assert.deepEqual(
    outcomes.map((o) => [o.ok, o.code]),
    [
      [false, "permission-denied"],
      [false, "permission-denied"],
      [false, "permission-denied"],
    ],
  );
  assert.match(outcomes[0]!.message, /GLIDEIN_Site contradicts the pilot credential's binding/);
  const ads = await collector
    .as("reader")
    .query({ type: "Slot", constraint: 'GLIDEIN_Site =!= "SITE_A"' });
  assert.equal(ads.length, 0, "nothing stored for another site");
});

test("spelling the type in another case does not skip the binding check", async () => {
  const c = await pilotClient("p3");
  for (const type of ["slot", "SLOT"]) {
    const ad = slotAd(6, { MyType: JSON.stringify(type), GLIDEIN_Site: '"SITE_B"' });
    const [o] = await c.advertise([ad], type);
    assert.equal(o?.ok, false, `${type}: ${JSON.stringify(o)}`);
    assert.equal(o?.code, "permission-denied");
    assert.match(o.message, /contradicts the pilot credential's binding/);
  }
  const ads = await collector
    .as("reader")
    .query({ type: "Slot", constraint: 'GLIDEIN_Site == "SITE_B"' });
  assert.equal(ads.length, 0, "nothing stored for another site");
});

test("a certificate pilot without a binding still advertises its slot as sent", async () => {
  const [o] = await collector
    .as("pilot")
    .advertise([slotAd(5, { GLIDEIN_Site: '"SITE_C"' })], "Slot");
  assert.ok(o?.ok);
});

test("a writer without a binding cannot supply its own UpdraftPilotBinding", async () => {
  const forged = JSON.stringify(
    JSON.stringify({
      frontend: "fe",
      group: "main",
      entry: "entry_a",
      pilot_id: "p8",
      renew_until: 4_000_000_000,
    }),
  );
  const [o] = await collector
    .as("pilot")
    .advertise([slotAd(8, { GLIDEIN_Site: '"SITE_A"', updraftpilotbinding: forged })], "Slot");
  assert.equal(o?.ok, false, JSON.stringify(o));
  assert.equal(o?.code, "permission-denied");
  assert.match(o.message, /UpdraftPilotBinding is set by the collector/);
  const ads = await collector
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_8@wn8.example.org"' });
  assert.equal(ads.length, 0, "the forged binding is not stored");
});

test("a bound pilot's Slot ad carries its verified binding, whatever the pilot wrote there", async () => {
  const c = await pilotClient("p9");
  const forged = JSON.stringify(
    JSON.stringify({
      frontend: "fe",
      group: "main",
      entry: "x",
      pilot_id: "p9",
      renew_until: 4_000_000_000,
    }),
  );
  const [o] = await c.advertise(
    [slotAd(9, { GLIDEIN_Site: '"SITE_A"', UpdraftPilotBinding: forged })],
    "Slot",
  );
  assert.ok(o?.ok, JSON.stringify(o));
  const [ad] = await collector
    .as("reader")
    .query({ type: "Slot", constraint: 'Name == "slot1@glidein_9@wn9.example.org"' });
  assert.ok(ad?.UpdraftPilotBinding);
  assert.deepEqual(JSON.parse(JSON.parse(ad.UpdraftPilotBinding) as string), {
    frontend: "fe",
    group: "main",
    entry: "entry_a",
    site: "SITE_A",
    factory: "gf",
    pilot_id: "p9",
  });
});

test("a bound pilot advertises a dynamic slot per job, at most its CPUs + 1 ads, and no other pilot's", async () => {
  const c = await pilotClient("p10");
  const reader = collector.as("reader");
  const name = (slot: string, pilot = "glidein_10@wn10.example.org") => `"${slot}@${pilot}"`;
  const ad = (slot: string, extra: Record<string, string> = {}, pilot?: string) =>
    slotAd(10, { GLIDEIN_Site: '"SITE_A"', Name: name(slot, pilot), ...extra });
  const dyn = (n: number) => ad(`slot1_${n}`, { SlotType: '"Dynamic"', DynamicSlot: "true" });
  const outcomes = await c.advertise(
    [ad("slot1", { TotalCpus: "2", SlotType: '"Partitionable"' }), dyn(1), dyn(2)],
    "Slot",
  );
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true, true, true],
    JSON.stringify(outcomes),
  );
  const stored = await reader.query({ type: "Slot", constraint: 'regexp("@glidein_10@", Name)' });
  assert.equal(stored.length, 3);
  // The dynamic slots carry the binding as the parent does.
  assert.ok(stored.every((s) => s.GLIDEIN_Entry_Name === '"entry_a"'));

  const [third] = await c.advertise([dyn(3)], "Slot");
  assert.equal(third?.ok, false);
  assert.equal(third?.code, "permission-denied");
  assert.match(
    third!.message,
    /already holds 3 Slot ads \(its partitionable slot's TotalCpus \+ 1\)/,
  );

  // A made-up TotalCpus on a dynamic slot does not raise the bound.
  const [lying] = await c.advertise([ad("slot1_4", { TotalCpus: "64" })], "Slot");
  assert.equal(lying?.ok, false);

  // Another pilot's names, even ones nobody holds yet, are refused.
  const other = "glidein_11@wn11.example.org";
  const foreign = await c.advertise([ad("slot1_1", {}, other), ad("slot1", {}, other)], "Slot");
  assert.deepEqual(
    foreign.map((o) => [o.ok, o.code]),
    [
      [false, "permission-denied"],
      [false, "permission-denied"],
    ],
  );
  assert.match(foreign[0]!.message, /names another pilot than the one this credential advertises/);
  const [odd] = await c.advertise([ad("job7")], "Slot");
  assert.equal(odd?.ok, false);
  assert.match(odd!.message, /is named slotN@<pilot>/);

  // An ended job's slot withdrawn makes room for the next job's.
  const gone = await c.invalidate({ type: "Slot", name: "slot1_1@glidein_10@wn10.example.org" });
  assert.equal(gone.removed, 1);
  const [next] = await c.advertise([dyn(3)], "Slot");
  assert.ok(next?.ok, JSON.stringify(next));
  const names = (await reader.query({ type: "Slot", constraint: 'regexp("wn1[01]", Name)' }))
    .map((s) => JSON.parse(s.Name!) as string)
    .sort();
  assert.deepEqual(names, [
    "slot1@glidein_10@wn10.example.org",
    "slot1_2@glidein_10@wn10.example.org",
    "slot1_3@glidein_10@wn10.example.org",
  ]);
});

test("a restarted collector still bounds a bound pilot's Slot ads it restored from its snapshot", async () => {
  const config = tokenConfig({
    snapshot: { path: join(dir, "collector-restart.sqlite"), period_s: 60 },
  });
  const pilot = "glidein_12@wn12.example.org";
  const ad = (slot: string, extra: Record<string, string> = {}, host = pilot) =>
    slotAd(12, { GLIDEIN_Site: '"SITE_A"', Name: `"${slot}@${host}"`, ...extra });
  const dyn = (n: number) => ad(`slot1_${n}`, { SlotType: '"Dynamic"', DynamicSlot: "true" });
  const first = await startCollector(pool, config);
  const before = await (
    await pilotClient("p12", first.url)
  ).advertise(
    [ad("slot1", { TotalCpus: "2", SlotType: '"Partitionable"' }), dyn(1), dyn(2)],
    "Slot",
  );
  assert.deepEqual(
    before.map((o) => o.ok),
    [true, true, true],
  );
  await first.stop(); // writes the snapshot

  const second = await startCollector(pool, config);
  try {
    const c = await pilotClient("p12", second.url);
    const restored = await second.as("reader").query({ type: "Slot" });
    assert.equal(restored.length, 3);
    // The bound is the restored partitionable slot's CPUs + 1, as before the restart.
    const [third] = await c.advertise([dyn(3)], "Slot");
    assert.equal(third?.ok, false);
    assert.match(third!.message, /already holds 3 Slot ads/);
    // And the credential still names one pilot only.
    const [foreign] = await c.advertise([ad("slot1", {}, "glidein_13@wn13.example.org")], "Slot");
    assert.equal(foreign?.ok, false);
    assert.match(foreign!.message, /names another pilot than the one this credential advertises/);
    // An ended job's slot withdrawn after the restart makes room again.
    const gone = await c.invalidate({ type: "Slot", name: `slot1_1@${pilot}` });
    assert.equal(gone.removed, 1);
    const [next] = await c.advertise([dyn(3)], "Slot");
    assert.ok(next?.ok, JSON.stringify(next));
  } finally {
    await second.stop();
  }
});

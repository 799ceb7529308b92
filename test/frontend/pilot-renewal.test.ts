/**
 * Which running pilots the frontend renews, from the Slot ads its pilots wrote: its own pilots
 * whose token ends within a third of lifetime_s and whose binding (stamped by the collector)
 * allows more; and what a renewed token is: same sub and binding, never past renew_until.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { decodeJwt } from "jose";
import { ClassAd } from "../../src/classad/index.js";
import {
  renewalKeyPem,
  renewalsDue,
  type RenewalContext,
} from "../../src/frontend/pilot-renewal.js";
import { pilotBindingClaim, type PilotBinding } from "../../src/security/pilot-binding.js";
import { configuredTokenMinter } from "./helpers.js";

const ISS = "https://frontend.example.org/pilots";
const NOW = 1_800_000_000;
const dir = mkdtempSync(join(tmpdir(), "updraft-renewal-fe-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const der = (bits: number) =>
  generateKeyPairSync("rsa", { modulusLength: bits })
    .publicKey.export({ type: "spki", format: "der" })
    .toString("base64");
const RSA2048 = der(2048);
const RSA1024 = der(1024);
const EC = generateKeyPairSync("ec", { namedCurve: "P-256" })
  .publicKey.export({ type: "spki", format: "der" })
  .toString("base64");

const BINDING: PilotBinding = {
  frontend: "fe",
  group: "main",
  entry: "e1",
  factory: "f1",
  pilotId: "p1",
  startExpr: "true",
  renewUntil: NOW + 1000,
};

function slot(o: { writer?: string; binding?: unknown; key?: string; exp?: number }): ClassAd {
  const ad = new ClassAd();
  ad.set("MyType", '"Slot"');
  ad.set("AuthenticatedIdentity", JSON.stringify(o.writer ?? `${ISS}#pilot-p1`));
  const b = o.binding === undefined ? pilotBindingClaim(BINDING) : o.binding;
  ad.set("UpdraftPilotBinding", JSON.stringify(typeof b === "string" ? b : JSON.stringify(b)));
  ad.set("UpdraftRenewalKey", JSON.stringify(o.key ?? RSA2048));
  ad.set("UpdraftCredentialExpiry", String(o.exp ?? NOW + 30));
  return ad;
}

const ctx: RenewalContext = {
  signer: ISS,
  frontend: "fe",
  lifetimeS: 120,
  nowS: NOW,
  renewed: new Map(),
};

test("a pilot of this frontend whose token ends within a third of its life is renewed", () => {
  const [due, ...more] = renewalsDue([slot({}), slot({})], ctx);
  assert.equal(more.length, 0, "one renewal per pilot, however many slot ads");
  assert.equal(due?.sub, "pilot-p1");
  assert.deepEqual(due?.binding, BINDING);
  assert.match(due!.keyPem, /BEGIN PUBLIC KEY/);
});

test("a per-pilot proxy's pilot is picked by its proxy's subject, and only that subject's", () => {
  const subject = "/DC=org/DC=example/CN=pilot01";
  const proxyCtx = { ...ctx, signer: subject };
  const [due] = renewalsDue([slot({ writer: `${subject}#pilot-p1` })], proxyCtx);
  assert.equal(due?.sub, "pilot-p1");
  assert.deepEqual(due?.binding, BINDING);
  const others: [string, string][] = [
    ["another subject", "/DC=org/DC=example/CN=pilot02#pilot-p1"],
    ["a longer subject", `${subject}/CN=x#pilot-p1`],
    ["the subject alone", subject],
    ["a token of the pilot's id", `${ISS}#pilot-p1`],
  ];
  for (const [name, writer] of others) {
    assert.deepEqual(renewalsDue([slot({ writer })], proxyCtx), [], name);
  }
});

test("pilots not due, not this frontend's, or with a bad key or binding are not renewed", () => {
  const cases: [string, ClassAd, Partial<RenewalContext>?][] = [
    ["not due yet", slot({ exp: NOW + 100 })],
    ["renewed already", slot({}), { renewed: new Map([["pilot-p1", NOW + 120]]) }],
    ["holds its last token", slot({ exp: NOW + 1000 })],
    // A lingering ad of a pilot gone since: renewing would throw and stop the cycle's renewals.
    ["renew_until passed", slot({ exp: NOW - 600 }), { nowS: NOW + 1000 }],
    ["another issuer", slot({ writer: "https://other.example.org/#pilot-p1" })],
    ["a certificate", slot({ writer: "/DC=org/CN=pilot" })],
    ["another frontend", slot({ binding: pilotBindingClaim({ ...BINDING, frontend: "fe2" }) })],
    ["sub is not the pilot id", slot({ writer: `${ISS}#pilot-p2` })],
    ["no renew_until", slot({ binding: pilotBindingClaim({ ...BINDING, renewUntil: undefined }) })],
    ["binding not JSON", slot({ binding: "{frontend" })],
    ["binding with unknown keys", slot({ binding: { ...pilotBindingClaim(BINDING), x: "1" } })],
    ["RSA 1024", slot({ key: RSA1024 })],
    ["EC key", slot({ key: EC })],
    ["garbage key", slot({ key: "AAAA" })],
    ["oversized key", slot({ key: "A".repeat(5000) })],
  ];
  for (const [name, ad, over] of cases) {
    assert.deepEqual(renewalsDue([ad], { ...ctx, ...over }), [], name);
  }
  assert.equal(renewalKeyPem("not base64!"), undefined);
});

test("a renewed token keeps the sub and binding and ends no later than renew_until", async () => {
  const minter = await configuredTokenMinter(dir, ISS);
  const first = decodeJwt(
    (
      await minter.mint(
        { binding: { frontend: "fe", group: "main", entry: "e1" }, count: 1 },
        NOW * 1000,
      )
    ).trim(),
  );
  const claim = first["updraft.pilot"] as { renew_until: number; pilot_id: string };
  assert.equal(claim.renew_until, NOW + 600 + 3600, "first token's life plus the walltime");

  const b = { ...BINDING, pilotId: claim.pilot_id, renewUntil: NOW + 1000 };
  const r = await minter.renew(b, (NOW + 700) * 1000);
  const renewed = decodeJwt(r.token);
  assert.equal(renewed.sub, `pilot-${claim.pilot_id}`);
  assert.deepEqual(renewed["updraft.pilot"], pilotBindingClaim(b));
  assert.equal(renewed.exp, NOW + 1000, "capped at renew_until");
  assert.equal(r.exp, NOW + 1000);
  await assert.rejects(minter.renew(b, (NOW + 1000) * 1000), /may not be renewed any more/);
});

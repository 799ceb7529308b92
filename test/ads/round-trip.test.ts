import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  AD_TYPE,
  GLIDE_CLIENT,
  type GlideClientAd,
  type GlideFactoryClientAd,
  readGlideClient,
  readGlideFactoryClient,
  writeGlideClient,
  glideFactoryClientWire,
  writeGlideFactoryClient,
} from "../../src/ads/index.js";
import { ClassAd } from "../../src/classad/index.js";

/** fast-check builds null-prototype objects; compare contents only. */
function plain(x: object): unknown {
  return JSON.parse(JSON.stringify(x));
}

/** Through the wire's text form, as the collector passes ads on. */
function viaWire(ad: ClassAd): ClassAd {
  return ClassAd.fromJSON(ad.toJSON());
}

const text = fc.string({ maxLength: 30 });
const count = fc.integer({ min: 0, max: 1_000_000 });
// ClassAd attribute names ignore case: one spelling per name, or two params would be one.
const paramName = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);

test("GlideClient: write, then read (through the wire's text form), gives the same record", () => {
  const full = fc.record({
    name: text,
    clientName: text,
    frontendName: text,
    groupName: text,
    reqName: text,
    reqGlidein: text,
    reqIdleGlideins: count,
    reqMaxGlideins: count,
    reqRemoveExcess: text,
    reqRemoveExcessMargin: count,
    reqIdleLifetime: count,
    reqPubKeyId: text,
    reqEncIdentity: text,
    encCredential: text,
    credentialType: text,
    securityClass: text,
    trustDomain: text,
    params: fc.dictionary(paramName, fc.oneof(text, fc.integer(), fc.boolean()), { maxKeys: 5 }),
    start: text,
  });
  fc.assert(
    fc.property(full, fc.option(text, { nil: undefined }), (r, keyId) => {
      const record: GlideClientAd = keyId === undefined ? r : { ...r, factoryPubKeyId: keyId };
      const ad = viaWire(writeGlideClient(record));
      assert.equal(ad.getString("MyType"), AD_TYPE.GlideClient);
      const { authenticatedIdentity, ...back } = readGlideClient(ad);
      assert.equal(authenticatedIdentity, undefined);
      assert.deepEqual(plain(back), plain({ ...record, factoryPubKeyId: keyId }));
    }),
  );
});

test("GlideClient reader: mistyped or missing attributes read as undefined, never coerced", () => {
  const ad = ClassAd.parse(
    `[ Name = "n"; ReqIdleGlideins = "5"; ReqMaxGlideins = 2.5; ClientName = 3;
       GlideinParamX = { 1 }; GlideinParamY = 4; AuthenticatedIdentity = "fe@example" ]`,
  );
  const r = readGlideClient(ad);
  assert.equal(r.name, "n");
  assert.equal(r.reqIdleGlideins, undefined);
  assert.equal(r.reqMaxGlideins, undefined);
  assert.equal(r.clientName, undefined);
  assert.equal(r.frontendName, undefined);
  assert.deepEqual(r.params, { Y: 4 });
  assert.equal(r.authenticatedIdentity, "fe@example");
  assert.equal(GLIDE_CLIENT.ReqIdleGlideins, "ReqIdleGlideins");
});

test("GlideFactoryClient: write, then read, gives the same record", () => {
  const record = fc.record({
    name: text,
    reqGlidein: text,
    reqClientName: text,
    reqFrontendName: text,
    entryName: text,
    factoryName: text,
    idle: count,
    running: count,
    held: count,
    requestedIdle: count,
    requestedMaxGlideins: count,
    limitsHit: text,
    failedPilots: count,
    finishedPilots: count,
    failedByClass: text,
    lastFailure: text,
    lifetimeS: count,
  });
  fc.assert(
    fc.property(record, (r: GlideFactoryClientAd) => {
      const ad = viaWire(writeGlideFactoryClient(r));
      assert.equal(ad.getString("MyType"), AD_TYPE.GlideFactoryClient);
      assert.equal(ad.getInteger("GlideinMonitorStatusTotal"), r.idle + r.running + r.held);
      assert.deepEqual(plain(readGlideFactoryClient(ad)), plain(r));
    }),
  );
});

test("GlideFactoryClient: the wire form written directly is the ad's own, for any text", () => {
  // Quotes, backslashes, control characters and text beyond ASCII, which the wire escapes.
  const anyText = fc.string({ unit: "binary", maxLength: 30 });
  const record = fc.record({
    name: anyText,
    reqGlidein: anyText,
    reqClientName: anyText,
    reqFrontendName: anyText,
    entryName: anyText,
    factoryName: anyText,
    idle: count,
    running: count,
    held: count,
    requestedIdle: count,
    requestedMaxGlideins: count,
    limitsHit: anyText,
    failedPilots: count,
    finishedPilots: count,
    failedByClass: anyText,
    lastFailure: fc.constantFrom(
      'say "no" \\ now',
      "tab\there\nline",
      "caf\u00e9 \u2013 \u{1f600}",
    ),
    lifetimeS: count,
  });
  fc.assert(
    fc.property(record, (r: GlideFactoryClientAd) => {
      assert.deepEqual(glideFactoryClientWire(r), writeGlideFactoryClient(r).toJSON());
    }),
  );
});

test("GlideFactoryClient reader: falls back to the totals' names for the counts", () => {
  const r = readGlideFactoryClient(
    ClassAd.parse("[ GlideinMonitorTotalStatusIdle = 3; GlideinMonitorStatusRunning = 1 ]"),
  );
  assert.equal(r.idle, 3);
  assert.equal(r.running, 1);
  assert.equal(r.held, undefined);
});

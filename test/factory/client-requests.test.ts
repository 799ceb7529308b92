import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { GlideClientReader, readGlideClientAd } from "../../src/factory/client-requests.js";

function ad(
  over: Record<string, string | number> = {},
  drop: string[] = [],
): Record<string, string> {
  const a = new ClassAd()
    .setValue("Name", "e1@f1@fe.g")
    .setValue("ReqGlidein", "e1@f1")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe")
    .setValue("ReqIdleGlideins", 4)
    .setValue("ReqMaxGlideins", 9)
    .setValue("ReqRemoveExcess", "IDLE")
    .setValue("ReqRemoveExcessMargin", 2)
    .setValue("GlideinEncParamCredential", "CIPHER")
    .setValue("GlideinParamGLIDEIN_Collector", "wss://c:9618");
  for (const [k, v] of Object.entries(over)) a.setValue(k, v);
  const j = a.toJSON();
  for (const k of drop) delete j[k];
  return j;
}

test("a GlideClient ad for this factory becomes a request with its parameters", () => {
  const r = readGlideClientAd(ad(), "f1");
  assert.ok(r?.ok);
  assert.deepEqual(r.value.request, {
    entry: "e1",
    client: "fe.g",
    frontend: "fe",
    securityClass: "main",
    authenticatedIdentity: "/CN=fe",
    reqIdle: 4,
    reqMax: 9,
    removeExcess: "IDLE",
    removeMargin: 2,
    idleLifetimeS: undefined,
  });
  assert.equal(r.value.encryptedCredential, "CIPHER");
  assert.deepEqual(r.value.params, { GLIDEIN_Collector: "wss://c:9618" });
});

test("ReqIdleLifetime is read as the request's idle lifetime", () => {
  const r = readGlideClientAd(ad({ ReqIdleLifetime: 600 }), "f1");
  assert.ok(r?.ok);
  assert.equal(r.value.request.idleLifetimeS, 600);
});

test("the frontend's start expression travels to the pilot as GLIDEIN_Start", () => {
  const r = readGlideClientAd(ad({ GLIDEIN_Start: "TARGET.RequestCpus <= 2" }), "f1");
  assert.ok(r?.ok);
  assert.equal(r.value.params.GLIDEIN_Start, "TARGET.RequestCpus <= 2");
});

test("ads for other factories are ignored, even with a similar name", () => {
  assert.equal(readGlideClientAd(ad({ ReqGlidein: "e1@f2" }), "f1"), undefined);
  assert.equal(readGlideClientAd(ad({ ReqGlidein: "e1@xf1" }), "f1"), undefined);
});

test("an ad missing a required attribute is skipped with a reason", () => {
  const r = readGlideClientAd(ad({}, ["GlideinSecurityClass"]), "f1");
  assert.ok(r && !r.ok);
  assert.match(r.reason, /GlideinSecurityClass/);
});

test("negative counts are read as zero; a missing identity never matches a class", () => {
  const r = readGlideClientAd(ad({ ReqIdleGlideins: -5 }, ["AuthenticatedIdentity"]), "f1");
  assert.ok(r?.ok);
  assert.equal(r.value.request.reqIdle, 0);
  assert.equal(r.value.request.authenticatedIdentity, "");
});

test("the frontend's VO bundle URL and hash reach the pilot's parameters; a malformed pair refuses the request", () => {
  const sha = "ab".repeat(32);
  const good = readGlideClientAd(
    ad({
      GlideinParamUPDRAFT_VO_BUNDLE: "https://fe.example:8320/" + sha,
      GlideinParamUPDRAFT_VO_BUNDLE_SHA256: sha,
    }),
    "f1",
  );
  assert.ok(good?.ok);
  assert.equal(good.value.params.UPDRAFT_VO_BUNDLE, "https://fe.example:8320/" + sha);
  assert.equal(good.value.params.UPDRAFT_VO_BUNDLE_SHA256, sha);
  assert.deepEqual(good.value.attrProblems, [], "they are settings, not VO attributes");

  const bad: Record<string, string>[] = [
    { GlideinParamUPDRAFT_VO_BUNDLE: "https://fe.example/x" },
    {
      GlideinParamUPDRAFT_VO_BUNDLE: "file:///etc/passwd",
      GlideinParamUPDRAFT_VO_BUNDLE_SHA256: sha,
    },
    { GlideinParamUPDRAFT_VO_BUNDLE: "https://fe/x", GlideinParamUPDRAFT_VO_BUNDLE_SHA256: "zz" },
  ];
  for (const over of bad) {
    const r = readGlideClientAd(ad(over), "f1");
    assert.ok(r && !r.ok, JSON.stringify(over));
    assert.match(r.reason, /UPDRAFT_VO_BUNDLE/);
  }
});

/** The request the reader gives, which must be a readable one. */
function requestOf(r: ReturnType<typeof readGlideClientAd>) {
  assert.ok(r?.ok);
  return r.value;
}

test("the reader reuses a request while its ad's text is unchanged, whenever it was last heard", () => {
  const reader = new GlideClientReader();
  const first = requestOf(reader.read({ ...ad(), LastHeardFrom: "1000" }, "f1"));
  // A new copy of the same text, as the next query brings, stamped later by the collector.
  const again = requestOf(reader.read({ ...ad(), LastHeardFrom: "1060" }, "f1"));
  assert.equal(again, first);
  assert.deepEqual(again, requestOf(readGlideClientAd(ad(), "f1")));
});

test("the reader reads an ad anew when an attribute changes, comes or goes", () => {
  const reader = new GlideClientReader();
  const first = requestOf(reader.read(ad(), "f1"));
  const more = requestOf(reader.read(ad({ ReqIdleGlideins: 6 }), "f1"));
  assert.notEqual(more, first);
  assert.equal(more.request.reqIdle, 6);
  const lifetime = requestOf(reader.read(ad({ ReqIdleGlideins: 6, ReqIdleLifetime: 600 }), "f1"));
  assert.equal(lifetime.request.idleLifetimeS, 600);
  const without = requestOf(reader.read(ad({ ReqIdleGlideins: 6 }), "f1"));
  assert.equal(without.request.idleLifetimeS, undefined);
  // Same text, another factory: not this factory's request.
  assert.equal(reader.read(ad({ ReqIdleGlideins: 6 }), "f2"), undefined);
  // A refused ad is refused again, and one made good is read.
  const bad = reader.read(ad({}, ["GlideinSecurityClass"]), "f1");
  assert.equal(bad?.ok, false);
  assert.equal(reader.read(ad({}, ["GlideinSecurityClass"]), "f1")?.ok, false);
  assert.equal(requestOf(reader.read(ad(), "f1")).request.securityClass, "main");
});

test("the reader reads an ad with expressions anew each time: they may depend on the time", () => {
  const reader = new GlideClientReader();
  const text = { ...ad(), ReqIdleGlideins: "time() % 2 + 4" };
  const first = requestOf(reader.read(text, "f1"));
  assert.ok(first.request.reqIdle === 4 || first.request.reqIdle === 5);
  assert.notEqual(requestOf(reader.read({ ...text }, "f1")), first);
});

test("the reader forgets ads no cycle read since the last one ended", () => {
  const reader = new GlideClientReader();
  const first = requestOf(reader.read(ad(), "f1"));
  reader.endCycle();
  assert.equal(requestOf(reader.read(ad(), "f1")), first);
  reader.endCycle();
  reader.endCycle();
  assert.notEqual(requestOf(reader.read(ad(), "f1")), first);
});

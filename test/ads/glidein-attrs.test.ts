import assert from "node:assert/strict";
import { test } from "node:test";
import {
  attrNameProblem,
  decodeGlideinAttrs,
  encodeGlideinAttrs,
  GLIDEIN_ATTR_LIMITS,
  type GlideinAttr,
} from "../../src/ads/glidein-attrs.js";
import { readGlideClient, writeGlideClient } from "../../src/ads/index.js";
import { ClassAd } from "../../src/classad/index.js";

const attr = (over: Partial<GlideinAttr> = {}): GlideinAttr => ({
  name: "VO_Tag",
  type: "string",
  value: "x",
  publish: true,
  job: false,
  ...over,
});

test("system names are refused whatever their case, and names must be ClassAd identifiers", () => {
  assert.equal(attrNameProblem("VO_Software_Dir"), undefined);
  for (const name of [
    "GLIDEIN_Site",
    "glidein_site",
    "GLIDEIN_Entry_Name",
    "GLIDECLIENT_Group",
    "glideclient_anything",
    "AuthenticatedIdentity",
    "Cpus",
    "START",
    "Requirements",
    "PATH",
    "LD_PRELOAD",
    "NODE_OPTIONS",
    "UPDRAFT_GLIDEIN_ATTRS",
    "X509_USER_PROXY",
    "_CONDOR_SCRATCH_DIR",
  ]) {
    assert.match(attrNameProblem(name) ?? "", /system sets itself/, name);
  }
  for (const name of ["1abc", "a-b", "a b", "", "a.b", "x".repeat(65)]) {
    assert.ok(attrNameProblem(name), name);
  }
});

test("the encoded list decodes to what was encoded", () => {
  const list = [
    attr(),
    attr({ name: "VO_Cores", type: "int", value: 4, publish: false, job: true }),
    attr({ name: "VO_Ok", type: "expr", value: "Memory > 1000", job: true }),
  ];
  const back = decodeGlideinAttrs(encodeGlideinAttrs(list));
  assert.ok(back.ok);
  assert.deepEqual(back.attrs, list);
});

test("a hostile list is refused whole, each problem named", () => {
  const bad = (v: unknown) => decodeGlideinAttrs(JSON.stringify(v));
  const tooMany = Array.from({ length: GLIDEIN_ATTR_LIMITS.count + 1 }, (_, i) => ({
    n: `A${i}`,
    t: "string",
    v: "x",
  }));
  assert.deepEqual(bad(tooMany), { ok: false, problems: ["more than 64 attributes"] });
  assert.equal(decodeGlideinAttrs("x".repeat(70_000)).ok, false);
  assert.deepEqual(decodeGlideinAttrs("{nope"), { ok: false, problems: ["not JSON"] });
  const r = bad([
    { n: "GLIDEIN_Site", t: "string", v: "FAKE" },
    { n: "A", t: "int", v: "3" },
    { n: "B", t: "expr", v: "a &&" },
    { n: "C", t: "string", v: "y".repeat(5000) },
    { n: "D", t: "code", v: "x" },
    { n: "E", t: "string", v: "1" },
    { n: "e", t: "string", v: "2" },
  ]);
  assert.equal(r.ok, false);
  const text = r.ok ? "" : r.problems.join("\n");
  assert.match(text, /GLIDEIN_Site: a name the system sets itself/);
  assert.match(text, /A: type int needs a whole number/);
  assert.match(text, /B: bad ClassAd expression/);
  assert.match(text, /C: value longer than 4096/);
  assert.match(text, /without a name or a known type/);
  assert.match(text, /e: given twice/);
});

test("GlideClient attributes travel as parameters with their kinds, read back as literals only", () => {
  const ad = writeGlideClient({
    name: "n",
    clientName: "fe.g",
    frontendName: "fe",
    groupName: "g",
    reqName: "e@f",
    reqGlidein: "e@f",
    reqIdleGlideins: 1,
    reqMaxGlideins: 2,
    reqRemoveExcess: "NO",
    reqRemoveExcessMargin: 0,
    reqIdleLifetime: 0,
    reqPubKeyId: "k",
    reqEncIdentity: "i",
    encCredential: "c",
    credentialType: "grid_proxy",
    securityClass: "s",
    trustDomain: "grid",
    params: { GLIDEIN_Collector: "wss://c" },
    attrs: [
      attr(),
      attr({ name: "VO_Cores", type: "int", value: 4, publish: false, job: true }),
      attr({ name: "VO_Ok", type: "expr", value: "Memory > 1000" }),
    ],
    start: "true",
  });
  // An expression where a value belongs is not evaluated at the reader: it is dropped.
  ad.set("GlideinParamSneaky", 'strcat("a", "b")');
  const r = readGlideClient(ClassAd.parse(ad.toString()));
  assert.deepEqual(r.params, {
    GLIDEIN_Collector: "wss://c",
    VO_Tag: "x",
    VO_Cores: 4,
    VO_Ok: "Memory > 1000",
  });
  assert.deepEqual(r.exprAttrs, ["VO_Ok"]);
  assert.deepEqual(r.publishAttrs, ["VO_Tag", "VO_Ok"]);
  assert.deepEqual(r.jobPublishAttrs, ["VO_Cores"]);
});

test("a value holding a NUL is refused, since no environment or job description can carry it", () => {
  for (const type of ["string", "expr"] as const) {
    const value = type === "string" ? "a\u0000b" : '"a\u0000b"';
    const r = decodeGlideinAttrs(encodeGlideinAttrs([attr({ type, value, job: true })]));
    assert.equal(r.ok, false, type);
    assert.match(r.ok ? "" : r.problems.join("; "), /VO_Tag: value holds a NUL character/);
  }
  assert.ok(decodeGlideinAttrs(encodeGlideinAttrs([attr({ value: "a\tb\nc" })])).ok);
});

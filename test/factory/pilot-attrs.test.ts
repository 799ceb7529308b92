import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeGlideinAttrs, type GlideinAttr } from "../../src/ads/glidein-attrs.js";
import { ClassAd } from "../../src/classad/index.js";
import { readGlideClientAd } from "../../src/factory/client-requests.js";
import { mergePilotAttrs, type EntryAttr } from "../../src/factory/pilot-attrs.js";

function request(params: Record<string, string | number>, lists: Record<string, string> = {}) {
  const a = new ClassAd()
    .setValue("Name", "e1@f1@fe.g")
    .setValue("ReqGlidein", "e1@f1")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("ReqIdleGlideins", 1)
    .setValue("ReqMaxGlideins", 2)
    .setValue("GlideinParamGLIDEIN_Collector", "wss://c:9618");
  for (const [k, v] of Object.entries(params)) a.setValue(`GlideinParam${k}`, v);
  for (const [k, v] of Object.entries(lists)) a.setValue(k, v);
  return readGlideClientAd(a.toJSON(), "f1");
}

test("the frontend's attributes are read apart from its settings, with their kinds", () => {
  const r = request(
    { VO_Tag: "cms", VO_Cores: 8, VO_Ok: "Memory > 10" },
    {
      GlideinExprAttrs: "VO_Ok",
      GlideinPublishAttrs: "VO_Tag,VO_Ok",
      GlideinJobPublishAttrs: "VO_Cores",
    },
  );
  assert.ok(r?.ok);
  assert.deepEqual(r.value.params, { GLIDEIN_Collector: "wss://c:9618" });
  assert.deepEqual(r.value.attrs, [
    { name: "VO_Tag", type: "string", value: "cms", publish: true, job: false },
    { name: "VO_Cores", type: "int", value: 8, publish: false, job: true },
    { name: "VO_Ok", type: "expr", value: "Memory > 10", publish: true, job: false },
  ]);
  assert.deepEqual(r.value.attrProblems, []);
});

test("attributes naming what the system sets, or of a bad kind, are dropped with why", () => {
  const r = request(
    {
      GLIDEIN_Site: "Fake",
      LD_PRELOAD: "/tmp/x.so",
      NODE_OPTIONS: "--require /tmp/x",
      VO_Bad: "a &&",
      VO_Fine: "y",
    },
    { GlideinExprAttrs: "VO_Bad" },
  );
  assert.ok(r?.ok);
  assert.deepEqual(
    r.value.attrs.map((a) => a.name),
    ["VO_Fine"],
  );
  const text = r.value.attrProblems.join("\n");
  for (const n of ["GLIDEIN_Site", "LD_PRELOAD", "NODE_OPTIONS"]) {
    assert.match(text, new RegExp(`${n}: a name the system sets itself`));
  }
  assert.match(text, /VO_Bad: bad ClassAd expression/);
  assert.deepEqual(r.value.attrDrops, [
    "reserved_name",
    "reserved_name",
    "reserved_name",
    "bad_value",
  ]);
});

test("a request with more attributes than a pilot takes is refused", () => {
  const many: Record<string, string> = {};
  for (let i = 0; i < 65; i++) many[`VO_A${i}`] = "x";
  const r = request(many);
  assert.ok(r && !r.ok);
  assert.match(r.reason, /65 attributes/);
});

const entryAttr = (over: Partial<EntryAttr>): EntryAttr => ({
  value: "entry",
  type: "string",
  to_pilot: false,
  const: true,
  glidein_publish: false,
  job_publish: false,
  ...over,
});
const fe = (name: string, value: string | number): GlideinAttr => ({
  name,
  type: typeof value === "number" ? "int" : "string",
  value,
  publish: true,
  job: true,
});

test("a const entry attribute wins; a non-const one is a default the frontend replaces", () => {
  const m = mergePilotAttrs(
    {
      VO_Const: entryAttr({ value: "site", glidein_publish: true }),
      VO_Default: entryAttr({ value: "site", const: false, glidein_publish: true, to_pilot: true }),
      VO_Hidden: entryAttr({ value: 3, type: "int", to_pilot: true }),
    },
    [fe("vo_const", "vo"), fe("VO_Default", "vo"), fe("VO_Own", 7)],
  );
  const byName = new Map(m.attrs.map((a) => [a.name, a]));
  assert.equal(byName.get("VO_Const")?.value, "site");
  assert.equal(byName.has("vo_const"), false);
  assert.equal(byName.get("VO_Default")?.value, "vo");
  assert.equal(byName.get("VO_Own")?.value, 7);
  assert.equal(byName.has("VO_Hidden"), false, "neither published nor for jobs");
  assert.deepEqual(m.env, { VO_Default: "vo", VO_Hidden: "3" });
  assert.deepEqual(m.keptConst, ["vo_const"]);
  // What the pilot is handed decodes under the pilot's own checks.
  assert.ok(
    decodeGlideinAttrs(JSON.stringify(m.attrs.map((a) => ({ n: a.name, t: a.type, v: a.value }))))
      .ok,
  );
});

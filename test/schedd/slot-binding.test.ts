/** A pilot's credential binding overrides and polices what its slot ad says about itself. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, symmetricMatch } from "../../src/classad/index.js";
import { bindSlot } from "../../src/schedd/slot-binding.js";

const OPTS = { slotEntryAttribute: "GLIDEIN_Entry_Name" };
const BINDING = {
  frontend: "fe1",
  group: "main",
  entry: "CE_one",
  site: "Site_A",
  factory: "fact1",
  startExpr: 'TARGET.Owner == "alice"',
};

function job(owner: string): ClassAd {
  return ClassAd.fromJSON({ Owner: JSON.stringify(owner), Requirements: "true" });
}

test("binding values fill in a slot ad that does not state them", () => {
  const r = bindSlot({ Requirements: "START", START: "true" }, BINDING, OPTS);
  assert.ok(r.ok);
  assert.equal(r.attrs["GLIDEIN_Site"], '"Site_A"');
  assert.equal(r.attrs["GLIDEIN_Entry_Name"], '"CE_one"');
  assert.equal(r.attrs["GLIDECLIENT_Group"], '"main"');
  assert.equal(r.attrs["GLIDECLIENT_Name"], '"fe1.main"');
  assert.equal(r.attrs["GLIDEIN_Factory"], '"fact1"');
});

test("a slot ad claiming another site, entry or group is refused", () => {
  for (const [k, v] of [
    ["GLIDEIN_Site", '"Site_B"'],
    ["glidein_site", '"Site_B"'],
    ["GLIDEIN_Entry_Name", '"CE_two"'],
    ["GLIDECLIENT_Group", '"other"'],
    ["GLIDEIN_Site", 'strcat("Site_", "A")'],
  ] as const) {
    const r = bindSlot({ Requirements: "true", [k]: v }, BINDING, OPTS);
    assert.equal(r.ok, false, `${k}=${v} accepted`);
    if (!r.ok) assert.match(r.reason, /contradicts the pilot credential's binding/);
  }
});

test("a slot ad agreeing with the binding is accepted", () => {
  const r = bindSlot({ Requirements: "true", GLIDEIN_Site: '"Site_A"' }, BINDING, OPTS);
  assert.ok(r.ok);
});

test("start_expr limits which jobs match, whatever the slot's own START says", () => {
  const r = bindSlot({ Requirements: "START", START: "true" }, BINDING, OPTS);
  assert.ok(r.ok);
  const slot = ClassAd.fromJSON(r.attrs);
  assert.equal(symmetricMatch(job("alice"), slot), true);
  assert.equal(symmetricMatch(job("mallory"), slot), false);
});

test("a start_expr that would escape its parentheses is refused", () => {
  const r = bindSlot({ Requirements: "false" }, { ...BINDING, startExpr: "true) || (true" }, OPTS);
  assert.equal(r.ok, false);
});

test("without Requirements the slot still matches nothing", () => {
  const r = bindSlot({ START: "true" }, BINDING, OPTS);
  assert.ok(r.ok);
  assert.equal(symmetricMatch(job("alice"), ClassAd.fromJSON(r.attrs)), false);
});

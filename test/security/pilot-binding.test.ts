/** The pilot binding claim: hostile shapes are refused with a reason, good ones round-trip. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MAX_BINDING_NAME,
  MAX_BINDING_START_EXPR,
  parsePilotBinding,
  pilotBindingClaim,
} from "../../src/security/pilot-binding.js";

const GOOD = {
  frontend: "fe1",
  group: "main",
  entry: "CE_ce1.example.org",
  site: "Example_Site",
  factory: "factory@example.org",
  pilot_id: "12.0",
  start_expr: 'TARGET.Owner == "alice"',
};

test("a full claim parses and round-trips through pilotBindingClaim", () => {
  const b = parsePilotBinding(GOOD);
  assert.deepEqual(b, {
    frontend: "fe1",
    group: "main",
    entry: "CE_ce1.example.org",
    site: "Example_Site",
    factory: "factory@example.org",
    pilotId: "12.0",
    startExpr: 'TARGET.Owner == "alice"',
  });
  assert.ok(!("error" in b));
  assert.deepEqual(pilotBindingClaim(b), GOOD);
});

test("only frontend, group and entry are required", () => {
  assert.deepEqual(parsePilotBinding({ frontend: "f", group: "g", entry: "e" }), {
    frontend: "f",
    group: "g",
    entry: "e",
  });
  for (const k of ["frontend", "group", "entry"]) {
    const c: Record<string, unknown> = { ...GOOD };
    delete c[k];
    const r = parsePilotBinding(c);
    assert.ok("error" in r && r.error.includes(`'${k}' is missing`), JSON.stringify(r));
  }
});

test("non-objects, unknown keys and non-strings are refused", () => {
  for (const bad of [null, undefined, 5, "x", [GOOD], true]) {
    assert.ok("error" in parsePilotBinding(bad));
  }
  const unk = parsePilotBinding({ ...GOOD, GLIDEIN_Site: "Other" });
  assert.ok("error" in unk && unk.error.includes("unknown key"));
  assert.ok("error" in parsePilotBinding({ ...GOOD, site: 7 }));
  assert.ok("error" in parsePilotBinding({ ...GOOD, start_expr: { x: 1 } }));
  assert.ok("error" in parsePilotBinding({ ...GOOD, group: ["main"] }));
});

test("names outside the safe character set or too long are refused", () => {
  for (const bad of [
    "",
    "a b",
    'x"y',
    "../etc",
    "a/b",
    "-lead",
    "x\ny",
    "é",
    "a".repeat(MAX_BINDING_NAME + 1),
  ]) {
    const r = parsePilotBinding({ ...GOOD, entry: bad });
    assert.ok("error" in r, `accepted entry ${JSON.stringify(bad)}`);
  }
  assert.ok(!("error" in parsePilotBinding({ ...GOOD, entry: "a".repeat(MAX_BINDING_NAME) })));
});

test("start_expr is bounded and printable", () => {
  assert.ok(
    "error" in parsePilotBinding({ ...GOOD, start_expr: "x".repeat(MAX_BINDING_START_EXPR + 1) }),
  );
  assert.ok("error" in parsePilotBinding({ ...GOOD, start_expr: "true\n[forged log line]" }));
  assert.ok("error" in parsePilotBinding({ ...GOOD, start_expr: "   " }));
  assert.ok("error" in parsePilotBinding({ ...GOOD, start_expr: "a\u0000" }));
  assert.ok(
    !("error" in parsePilotBinding({ ...GOOD, start_expr: "x".repeat(MAX_BINDING_START_EXPR) })),
  );
});

test("an unknown key's name in the error is cut short and made printable", () => {
  const r = parsePilotBinding({ ...GOOD, ["k\u0007".repeat(100)]: "v" });
  assert.ok("error" in r);
  assert.ok(r.error.length < 100 && !r.error.includes("\u0007"));
});

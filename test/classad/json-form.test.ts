/** ClassAds in JSON as HTCondor's ClassAdJsonUnParser writes them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, adsJson, exprJson, parseExpression } from "../../src/classad/index.js";

const json = (text: string) => exprJson(parseExpression(text));

test("literals are typed: integers, reals with their point, booleans, null for undefined", () => {
  assert.equal(json("42"), "42");
  assert.equal(json("-7"), "-7");
  assert.equal(json("120.0"), "120.0");
  assert.equal(json("0.0"), "0.0");
  assert.equal(json("0.25"), "0.25");
  assert.equal(json("1e20"), "1E+20");
  assert.equal(json("true"), "true");
  assert.equal(json("undefined"), "null");
  assert.equal(json('"a \\"quoted\\" word\\n"'), '"a \\"quoted\\" word\\n"');
  assert.equal(JSON.parse(json("1e20")), 1e20);
});

test("expressions, error and the reals JSON cannot hold are marked as \\/Expr(...)\\/", () => {
  assert.equal(json("REQUIRED_OS"), '"\\/Expr(REQUIRED_OS)\\/"');
  assert.equal(JSON.parse(json("REQUIRED_OS")), "/Expr(REQUIRED_OS)/");
  assert.equal(JSON.parse(json('Arch == "X86_64"')), '/Expr(Arch == "X86_64")/');
  assert.equal(JSON.parse(json("error")), "/Expr(error)/");
  assert.equal(JSON.parse(json('real("NaN")')), '/Expr(real("NaN"))/');
  assert.equal(JSON.parse(json("(1)")), "/Expr((1))/");
});

test("lists are arrays and nested ads objects, their members typed in turn", () => {
  assert.deepEqual(JSON.parse(json('{1, 2.5, "a", undefined, x + 1}')), [
    1,
    2.5,
    "a",
    null,
    "/Expr(x + 1)/",
  ]);
  assert.deepEqual(JSON.parse(json("[a = 1; b = {true}]")), { a: 1, b: [true] });
  assert.equal(json("{}"), "[]");
});

test("an array of ads parses as JSON and keeps attribute order and spelling", () => {
  const ads = [
    ClassAd.parse('[ ClusterId = 3; Rank = 0.0; DesiredOS = REQUIRED_OS; Out = "o" ]'),
    new ClassAd(),
  ];
  const text = adsJson(ads.map((a) => a.attributeExprs()));
  const parsed = JSON.parse(text) as Record<string, unknown>[];
  assert.deepEqual(Object.keys(parsed[0]!), ["ClusterId", "Rank", "DesiredOS", "Out"]);
  assert.deepEqual(parsed[1], {});
  assert.match(text, /"Rank": 0\.0,/);
  assert.equal(adsJson([]), "[]\n");
});

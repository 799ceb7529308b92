import assert from "node:assert/strict";
import { test } from "node:test";
import { naturalCompare } from "../../../src/classad/functions/versions.js";
import { ERROR, UNDEFINED, real, table } from "./values.js";

table("version comparison (§4.5)", [
  ["versioncmp", ["7.9", "7.10"], -1],
  ["versioncmp", ["7.10", "7.9"], 1],
  ["versioncmp", ["8.9.1", "8.9.1"], 0],
  ["versionEQ", ["7", "7.0"], false],
  ["versionLT", ["7", "7.0"], true],
  ["versionLT", ["8.9.10", "8.10.1"], true],
  ["versionLE", ["8.10.1", "8.10.1"], true],
  ["versionGT", ["10.0.0", "9.99.99"], true],
  ["versionGE", ["9.0", "10.0"], false],
  ["versionle", ["1.2", "1.3"], true],
  ["versioncmp", [UNDEFINED, "1"], UNDEFINED],
  ["versionGT", ["1", UNDEFINED], UNDEFINED],
  ["versioncmp", [ERROR, "1"], ERROR],
  ["versioncmp", [7, "7"], 0],
  ["versioncmp", ["1"], ERROR],
  ["version_in_range", ["8.9.1", "8.8.0", "8.10.0"], true],
  ["version_in_range", ["8.11.1", "8.8.0", "8.10.0"], false],
  ["version_in_range", ["8.8.0", "8.8.0", "8.10.0"], true],
  ["version_in_range", ["8.10.0", "8.8.0", "8.10.0"], true],
  ["version_in_range", [UNDEFINED, "1", "2"], UNDEFINED],
  ["version_in_range", ["1.5", UNDEFINED, "2"], UNDEFINED],
  ["version_in_range", ["1.5", "1", ERROR], ERROR],
  ["version_in_range", [real(1.5), "1", "2"], true],
  ["version_in_range", ["1", "2"], ERROR],
]);

test("natural order of strverscmp's documented examples", () => {
  // glibc: 000 < 00 < 01 < 010 < 09 < 0 < 1 < 9 < 10
  const sorted = ["000", "00", "01", "010", "09", "0", "1", "9", "10"];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      const order = Math.sign(naturalCompare(sorted[i]!, sorted[j]!));
      assert.equal(order, Math.sign(i - j), `${sorted[i]} vs ${sorted[j]}`);
    }
  }
});

test("non-digit differences compare by character", () => {
  assert.ok(naturalCompare("a", "b") < 0);
  assert.ok(naturalCompare("1.2a", "1.2b") < 0);
  assert.ok(naturalCompare("abc", "ab") > 0);
  assert.equal(naturalCompare("", ""), 0);
});

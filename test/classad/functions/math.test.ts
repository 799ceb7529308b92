import assert from "node:assert/strict";
import { test } from "node:test";
import { ERROR, UNDEFINED, call, list, real, show, table } from "./values.js";

table("floor, ceiling, round (§4.4)", [
  ["floor", [real(-3.5)], -4],
  ["floor", [true], 1],
  ["floor", [UNDEFINED], ERROR],
  ["floor", ["-3"], -3],
  ["floor", ["-3.4"], -4],
  ["floor", ["3"], 3],
  ["floor", [5], 5],
  ["floor", [real(5.2)], 5],
  ["floor", [real(3.9)], 3],
  ["floor", ["3.9"], 3],
  ["floor", ["this is not a float"], ERROR],
  ["floor", [9007199254740993n], 9007199254740993n],
  ["floor", [real(-0.5)], -1],
  ["floor", [real(0.5)], 0],
  ["floor", [real(NaN)], ERROR],
  ["floor", [real(1e300)], ERROR],
  ["floor", [list()], ERROR],
  ["floor", [1, 2], ERROR],
  ["ceiling", [real(-3.9)], -3],
  ["ceiling", ["-3"], -3],
  ["ceiling", ["-3.4"], -3],
  ["ceiling", ["3"], 3],
  ["ceiling", [5], 5],
  ["ceiling", [real(5.2)], 6],
  ["ceiling", [real(3.9)], 4],
  ["ceiling", ["3.9"], 4],
  ["ceiling", [real(-0.5)], 0],
  ["ceil", [real(5.2)], 6],
  ["round", [real(2.5)], 2],
  ["round", [real(3.5)], 4],
  ["round", [real(-2.5)], -2],
  ["round", [real(0.5)], 0],
  ["round", [real(-0.5)], 0],
  ["round", [real(1.5)], 2],
  ["round", ["-3"], -3],
  ["round", ["-3.5"], -4],
  ["round", ["3"], 3],
  ["round", [real(5.5)], 6],
  ["round", [real(5.2)], 5],
  ["round", [real(3.1)], 3],
  ["round", [real(3.9)], 4],
  ["round", [real(-2.6)], -3],
  ["round", [UNDEFINED], ERROR],
]);

table("pow (§4.4)", [
  ["pow", [2, 10], 1024],
  ["pow", [0, 0], 1],
  ["pow", [-2, 3], -8],
  ["pow", [-3, 3], -27],
  ["pow", [-2, 2], 4],
  ["pow", [3, 40], 12157665459056928801n - 2n ** 64n],
  ["pow", [2, 62], 4611686018427387904n],
  ["pow", [2, 64], 0],
  ["pow", [7, 1e15], 2964778947847127041n],
  ["pow", [2, -1], real(0.5)],
  ["pow", [real(2), 3], real(8)],
  ["pow", [2, real(0.5)], real(Math.SQRT2)],
  ["pow", ["2", 2], real(4)],
  ["pow", [true, 2], real(1)],
  ["pow", [UNDEFINED, 2], ERROR],
  ["pow", [2, UNDEFINED], ERROR],
  ["pow", [1, real(NaN)], real(1)],
  ["pow", [list(), 2], ERROR],
  ["pow", [2], ERROR],
]);

table("quantize (§4.4)", [
  ["quantize", [3, 8], 8],
  ["quantize", [3, 2], 4],
  ["quantize", [0, 4], 0],
  ["quantize", [real(1.5), real(6.8)], real(6.8)],
  ["quantize", [real(6.8), real(1.2)], real(7.199999999999999)],
  ["quantize", [10, real(5.1)], real(10.2)],
  ["quantize", [0, list(4)], 4],
  ["quantize", [2, list(1, 2, "A")], 2],
  ["quantize", [3, list(1, 2, real(0.5))], real(3)],
  ["quantize", [real(2.7), list(1, 2, real(0.5))], real(3)],
  ["quantize", [3, list(1, 2, "A")], ERROR],
  ["quantize", [7, 0], 7],
  ["quantize", [UNDEFINED, 2], ERROR],
  ["quantize", [2, UNDEFINED], ERROR],
  ["quantize", [real(2.5), 2], real(4)],
  ["quantize", [-4, 3], -3],
  ["quantize", [-3, 2], -2],
  ["quantize", [6, 3], 6],
  ["quantize", [5, list()], 5],
  ["quantize", [5, list(10, 20)], 10],
  ["quantize", [25, list(10, 20)], 40],
  ["quantize", ["7", 2], real(8)],
  ["quantize", [3], ERROR],
]);

table("random (§4.4)", [
  ["random", ["-3"], ERROR],
  ["random", [0], ERROR],
  ["random", [-5], ERROR],
  ["random", [real(-1)], ERROR],
  ["random", [UNDEFINED], ERROR],
  ["random", [1, 2], ERROR],
  ["random", [1], 0],
]);

test("random stays in range and keeps its type", () => {
  for (let i = 0; i < 200; i++) {
    const n = call("random", 5);
    assert.ok(typeof n === "number" && Number.isInteger(n) && n >= 0 && n < 5, show(n));
    const r = call("random", real(3.5));
    assert.match(show(r), /^real:/);
    assert.ok((r as { v: number }).v >= 0 && (r as { v: number }).v < 3.5);
    const u = call("random");
    assert.ok((u as { v: number }).v >= 0 && (u as { v: number }).v < 1);
    const big = call("random", 2n ** 62n);
    assert.ok(
      (typeof big === "number" || typeof big === "bigint") && big >= 0 && big < 2n ** 62n,
      show(big),
    );
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  expandMacros,
  macroOutsideString,
  macroReferences,
} from "../../../src/schedd/submit/macros.js";

const table: Record<string, string> = {
  a: "A",
  b: "$(a)$(a)",
  path: "data/run_07.dat",
  loop: "$(loop)",
};
const expand = (text: string, strict = true) =>
  expandMacros(text, { lookup: (n) => table[n], environ: { HOME: "/home/alice" }, strict });

const cases: [string, string][] = [
  ["plain", "plain"],
  ["$(a)", "A"],
  ["$(A)", "A"],
  ["x$(b)y", "xAAy"],
  ["$(missing:fallback)", "fallback"],
  ["$(missing:$(a)!)", "A!"],
  ["$(a:ignored)", "A"],
  ["$$(GLIDEIN_Site)", "$$(GLIDEIN_Site)"],
  ["$$([ Memory * 2 ])", "$$([ Memory * 2 ])"],
  ["$ENV(HOME)/x", "/home/alice/x"],
  ["$Fn(path)", "run_07"],
  ["$Fx(path)", ".dat"],
  ["$Fnx(path)", "run_07.dat"],
  ["$Fp(path)", "data/"],
  ["$Fq(a)", '"A"'],
  ["cost $5", "cost $5"],
];

for (const [input, expected] of cases) {
  test(`expands ${input}`, () => {
    assert.deepEqual(expand(input), { ok: true, text: expected });
  });
}

test("an undefined macro expands to nothing, as in condor_submit, unless strict", () => {
  assert.deepEqual(expand("out.$(nope).txt", false), { ok: true, text: "out..txt" });
});

test("in strict mode an undefined macro without a default is an error naming it", () => {
  const r = expand("out.$(nope)");
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.message, /undefined macro \$\(nope\)/);
});

test("a macro that uses itself is an error, not a hang", () => {
  const r = expand("$(loop)");
  assert.equal(r.ok, false);
});

test("macroReferences lists direct uses, not $$() ones", () => {
  assert.deepEqual(macroReferences("$(A) $$(B) $Fn(c) $(d:$(e))"), ["a", "c", "d", "e"]);
});

test("macroOutsideString finds a $$() that no string holds, and only that", () => {
  assert.equal(macroOutsideString("$$(GLIDEIN_Site)"), "$$(GLIDEIN_Site)");
  assert.equal(macroOutsideString('"a" + $$([f(Memory) * 2]) + 1'), "$$([f(Memory) * 2])");
  assert.equal(macroOutsideString("$$(Unclosed"), "$$(Unclosed");
  // Inside strings, an escaped quote (old syntax) included, it waits for the match.
  assert.equal(macroOutsideString('"$$(GLIDEIN_Site:Unknown)"'), undefined);
  assert.equal(macroOutsideString('strcat("$$(A)", "-", "$$([B * 2])")'), undefined);
  assert.equal(macroOutsideString('"say \\" $$(A)" == Name'), undefined);
  assert.equal(macroOutsideString('GLIDEIN_Site == "$$(DESIRED_Site)" && $$(B)'), "$$(B)");
  assert.equal(macroOutsideString("Memory > 100"), undefined);
});

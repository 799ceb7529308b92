import assert from "node:assert/strict";
import { test } from "node:test";
import { formatValue } from "../../../src/schedd/submit/macro-functions.js";
import { expandMacros, macroReferences } from "../../../src/schedd/submit/macros.js";

const table: Record<string, string> = {
  process: "7",
  step: "0",
  mass: "125.5",
  offset: "$(process) * 10",
  sample: "TTJets_13TeV",
  sites: "T2_US_MIT, T2_US_UCSD, T3_US_FNALLPC",
  quoted: '"hello"',
};
const expand = (text: string, random = 0.5) =>
  expandMacros(text, { lookup: (n) => table[n], strict: true, random: () => random });

test("macro functions expand as condor_submit's do", () => {
  const cases: [string, string][] = [
    ["job_$INT(Process,%04d).out", "job_0007.out"],
    ["$INT(Process)", "7"],
    ["$INT(offset)", "70"],
    ["$INT(mass)", "125"],
    ["$REAL(mass,%.2f)", "125.50"],
    ["$REAL(Process)", "7"],
    ["$REAL(mass)", "125.5"],
    ["$INT(Process, %d)", " 7"],
    ["$INT(offset,Area=%d)", "Area=70"],
    ["$EVAL(offset)", "70"],
    ["$INT(mass,%x)", "7d"],
    ["$EVAL($(Process) * 2 + 1)", "15"],
    ['$EVAL(strcat("run_", "$(Step)"))', "run_0"],
    ["$STRING(quoted)", "hello"],
    ["$STRING(sample,[%s])", "[TTJets_13TeV]"],
    ["$SUBSTR(sample,0,6)", "TTJets"],
    ["$SUBSTR(sample,-5)", "13TeV"],
    ["$SUBSTR(sample,2,-6)", "Jets"],
    ["$SUBSTR(sample, 2)", "Jets_13TeV"],
    ["$SUBSTR(sample, 10, -3)", ""],
    ["$SUBSTR(NoSuchMacro,0,3)", ""],
    ["$CHOICE(Step,a,b,c)", "a"],
    ["$CHOICE(2,a,b,c)", "c"],
    ["$CHOICE(1,sites)", "T2_US_UCSD"],
    ["$RANDOM_CHOICE(x,y,z)", "y"],
    ["$RANDOM_CHOICE(sites)", "T2_US_UCSD"],
    ["$RANDOM_INTEGER(10,20)", "15"],
    ["$RANDOM_INTEGER(0,100,25)", "50"],
  ];
  for (const [input, want] of cases) {
    const got = expand(input);
    assert.deepEqual(got, { ok: true, text: want }, input);
  }
});

test("each job of a cluster gets its own name from $INT(Process,%04d)", () => {
  const names = [0, 1, 12].map((p) => {
    const r = expandMacros("out_$INT(Process,%04d).root", {
      lookup: (n) => (n === "process" ? String(p) : undefined),
    });
    return r.ok ? r.text : r.message;
  });
  assert.deepEqual(names, ["out_0000.root", "out_0001.root", "out_0012.root"]);
});

test("macro functions refuse bad arguments with a message naming the call", () => {
  const bad = [
    "$INT(sample)",
    "$CHOICE(5,a,b)",
    "$RANDOM_INTEGER(9,1)",
    "$RANDOM_INTEGER(0,1e300)",
    "$SUBSTR(sample,x)",
    "$INT(Process,%99999999d)",
    "$INT(Process,%d%d)",
    "$EVAL(1 +)",
    "$INT()",
  ];
  for (const input of bad) {
    const got = expand(input);
    assert.equal(got.ok, false, input);
  }
  const r = expand("$CHOICE(5,a,b)");
  assert.ok(!r.ok && r.message.includes("$CHOICE"), JSON.stringify(r));
});

test("formatValue follows printf for the conversions submit files use", () => {
  assert.deepEqual(formatValue("%5d", 42), { ok: true, text: "   42" });
  assert.deepEqual(formatValue("%-5d|", 42), { ok: true, text: "42   |" });
  assert.deepEqual(formatValue("%+d", 3), { ok: true, text: "+3" });
  assert.deepEqual(formatValue("%05d", -42), { ok: true, text: "-0042" });
  assert.deepEqual(formatValue("%e", 1234.5), { ok: true, text: "1.234500e+03" });
  assert.deepEqual(formatValue("%g", 0.0001), { ok: true, text: "0.0001" });
  assert.deepEqual(formatValue("%g", 1234567), { ok: true, text: "1.23457e+06" });
  assert.deepEqual(formatValue("100%% %d", 1), { ok: true, text: "100% 1" });
});

test("$INT(Process) counts as a use of Process", () => {
  assert.deepEqual(macroReferences("a_$INT(Process,%03d)"), ["process"]);
});

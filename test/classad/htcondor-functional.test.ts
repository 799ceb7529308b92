/**
 * Peer suite: HTCondor's own functional test script for its ClassAd library
 * (shared/classad/htcondor-functional_tests.txt). Each `eval`, `same` and `diff` line is its own
 * subtest. `$name` is replaced by the text of the value bound by `eval name = ...`, as HTCondor's
 * tester does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ClassAd,
  ClassAdParseError,
  type Value,
  compileExpression,
  parseExpressionPrefix,
  sameValue,
  unparseValue,
} from "../../src/classad/index.js";
import { readSharedFile } from "./shared-files.js";

/**
 * Two expectations in the file predate current HTCondor (SEMANTICS §6.1, §4.7, §7): `sum({})` and
 * `avg({})` are 0 since 2020, and a missing attribute subscript `$x["c"]` is UNDEFINED. We follow
 * current HTCondor, so these lines are checked against what it does now.
 */
const CURRENT_HTCONDOR: ReadonlyMap<string, string> = new Map([
  ["same sum($list0), undefined", "same sum($list0), 0"],
  ["same avg($list0), undefined", "same avg($list0), 0"],
  ['same $x["c"], error', 'same $x["c"], undefined'],
]);

const empty = new ClassAd();

function evaluate(text: string): Value {
  return empty.evaluateExpr(compileExpression(text));
}

/** Parse `A, B` (anything after B is ignored, as in HTCondor's tester). */
function splitPair(text: string): [string, string] {
  const first = parseExpressionPrefix(text);
  const comma = text.indexOf(",", first.end);
  assert.ok(comma >= 0 && text.slice(first.end, comma).trim() === "", `expected ',' in ${text}`);
  const second = parseExpressionPrefix(text, { begin: comma + 1 });
  return [text.slice(0, first.end), text.slice(comma + 1, second.end)];
}

function needsMoreLines(text: string): boolean {
  try {
    parseExpressionPrefix(text);
    return false;
  } catch (err) {
    return err instanceof ClassAdParseError && err.message.includes("end of input");
  }
}

test("HTCondor functional_tests.txt", async (t) => {
  const lines = readSharedFile("htcondor-functional_tests.txt").split("\n");
  const variables = new Map<string, Value>();
  /** Variables only an XML round trip would bind (`readxml`): lines using them are XML lines. */
  const xmlOnly = new Set<string>();
  const substitute = (text: string): string | null => {
    let missing = false;
    const out = text.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      const v = variables.get(name);
      if (v === undefined) {
        missing = true;
        return "";
      }
      return unparseValue(v);
    });
    return missing ? null : out;
  };
  let checked = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const original = lines[i]!.trim();
    const line = CURRENT_HTCONDOR.get(original) ?? original;
    if (line === "" || line.startsWith("//") || line.startsWith("#")) continue;
    const [command = "", ...restWords] = line.split(/\s+/);
    let rest = line.slice(command.length).trim();
    if (command === "echo") continue;
    if (command === "writexml") continue;
    if (command === "readxml") {
      xmlOnly.add(restWords[0] ?? "");
      continue;
    }
    if (command === "eval") {
      while (needsMoreLines(rest.slice(rest.indexOf("=") + 1)) && i + 1 < lines.length) {
        rest += `\n${lines[++i]!}`;
      }
    }
    const usesXml = [...rest.matchAll(/\$([A-Za-z_]\w*)/g)].some((m) => xmlOnly.has(m[1]!));
    if (usesXml) continue;
    checked++;
    await t.test(`line ${lineNumber}: ${line.split("\n")[0]}`, () => {
      const text = substitute(rest);
      assert.ok(text !== null, `unbound variable in: ${rest}`);
      if (command === "eval") {
        const eq = text.indexOf("=");
        const name = text.slice(0, eq).trim();
        variables.set(name, evaluate(text.slice(eq + 1)));
        return;
      }
      const [a, b] = splitPair(text);
      const va = evaluate(a);
      const vb = evaluate(b);
      const shown = `${a.trim()} => ${unparseValue(va)}; ${b.trim()} => ${unparseValue(vb)}`;
      if (command === "same") assert.ok(sameValue(va, vb), `expected the same: ${shown}`);
      else if (command === "diff") assert.ok(!sameValue(va, vb), `expected different: ${shown}`);
      else assert.fail(`unknown command '${command}'`);
    });
  }
  assert.ok(checked > 200, `only ${checked} lines checked`);
});

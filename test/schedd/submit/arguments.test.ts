import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../../src/classad/index.js";
import { errorsOf, jobOf } from "./helpers.js";

/** The value of Arguments (the V2 raw text HTCondor stores), read back through the ClassAd engine. */
function argumentsOf(line: string): unknown {
  const job = jobOf(`executable = run.sh\n${line}\nqueue\n`);
  const text = job.get("Arguments");
  return text === undefined ? undefined : ClassAd.fromJSON({ a: text }).evaluate("a");
}

const cases: [string, string][] = [
  ["arguments = one two  three", "one two three"],
  ['arguments = say \\"hi\\"', 'say "hi"'],
  ['arguments = "one two"', "one two"],
  ["arguments = \"one 'two with spaces' 3\"", "one 'two with spaces' 3"],
  [
    "arguments = \"one \"\"two\"\" 'spacey ''quoted'' argument'\"",
    "one \"two\" 'spacey ''quoted'' argument'",
  ],
  ["arguments = \"a '' b\"", "a '' b"],
  ['arguments = ""', ""],
  ["arguments = -n $(Process)", "-n 0"],
];

for (const [line, expected] of cases) {
  test(`${line} -> Arguments = "${expected}"`, () => {
    assert.equal(argumentsOf(line), expected);
  });
}

test("no arguments command, no Arguments attribute", () => {
  assert.equal(argumentsOf(""), undefined);
});

test("an unescaped double quote in old-syntax arguments is an error", () => {
  const [e] = errorsOf('executable = run.sh\narguments = a "b\nqueue\n');
  assert.equal(e.line, 2);
  assert.match(e.message, /double quote/);
});

test("an unterminated single quote in new syntax is an error", () => {
  const [e] = errorsOf('executable = run.sh\narguments = "a \'b"\nqueue\n');
  assert.match(e.message, /single quote/);
});

function environmentOf(lines: string, environ?: Record<string, string>): unknown {
  const job = jobOf(`executable = run.sh\n${lines}\nqueue\n`, undefined, { environ });
  const text = job.get("Environment");
  return text === undefined ? undefined : ClassAd.fromJSON({ a: text }).evaluate("a");
}

test("old environment syntax: ';'-separated", () => {
  assert.equal(environmentOf("environment = A=1;B=two"), "A=1 B=two");
});

test("new environment syntax: quoted, blank-separated, single quotes group", () => {
  assert.equal(environmentOf('environment = "A=1 B=\'x y\' C=""q"""'), "A=1 'B=x y' C=\"q\"");
});

test("getenv = true imports the submitter's environment; explicit names win", () => {
  assert.equal(
    environmentOf("getenv = true\nenvironment = A=mine", { A: "theirs", PATH: "/bin" }),
    "A=mine PATH=/bin",
  );
});

test("getenv with names imports only those (wildcards allowed)", () => {
  assert.equal(
    environmentOf("getenv = PATH, X509*", { PATH: "/bin", HOME: "/h", X509_USER_PROXY: "/p" }),
    "PATH=/bin X509_USER_PROXY=/p",
  );
});

test("getenv = false imports nothing", () => {
  assert.equal(environmentOf("getenv = false", { PATH: "/bin" }), "");
});

test("a bad environment entry is an error", () => {
  const [e] = errorsOf("executable = run.sh\nenvironment = 1X=2\nqueue\n");
  assert.equal(e.line, 2);
});

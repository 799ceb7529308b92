import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_FILES, compile, errorsOf } from "./helpers.js";

const HEADER = "executable = run.sh\n";

/** One broken line after the header: the error's line and message. */
const cases: [string, RegExp][] = [
  ["requirements = Memory >", /bad expression for requirements at column 24: /],
  ["rank = (Memory", /bad expression for rank/],
  [
    "+DESIRED_Sites = T2_US_UCSD,T2_US_Purdue",
    /bad expression for \+DESIRED_Sites at column 28: unexpected ',T2_US_Purdue' after the expression/,
  ],
  ["MY.Foo =", /custom attribute Foo has no value/],
  ["+Bad-Name = 1", /'Bad-Name' is not a valid attribute name/],
  ["hold = sometimes", /hold must be true or false/],
  ["request_memory = 2 XB", /unknown unit 'XB'/],
  ["request_disk = 1 GG", /unknown unit 'GG'/],
  ["universe = grid", /universe 'grid' is not supported/],
  ["universe = docker", /vanilla jobs only/],
  ["priority = high", /priority must be an integer/],
  ["max_retries = -1", /non-negative integer/],
  ["notification = sometimes", /notification 'sometimes'/],
  ["should_transfer_files = maybe", /'maybe' is not one of YES, NO, IF_NEEDED/],
  ["when_to_transfer_output = later", /is not one of ON_EXIT/],
  ["stream_output = perhaps", /must be true or false/],
  ['arguments = "unterminated', /must end with/],
  ["this is not a command", /expected 'name = value' or 'queue'/],
  // $$() outside a string: condor_submit's ClassAd parser has no `$` token and refuses it too.
  [
    "+Site = $$(GLIDEIN_Site)",
    /\$\$\(GLIDEIN_Site\) in \+Site is outside a string.*write \+Site = "\$\$\(GLIDEIN_Site\)"/,
  ],
  ["request_memory = $$(Memory)", /\$\$\(Memory\) in request_memory is outside a string/],
  [
    'MY.Mem = strcat("x", $$([Memory * 2]))',
    /\$\$\(\[Memory \* 2\]\) in MY.Mem is outside a string/,
  ],
  ['+Where = "a" + $$(Name:none)', /\$\$\(Name:none\) in \+Where is outside a string/],
  ["transfer_input_files = https://example.org/d.root", /'https:\/\/example.org\/d.root' is a URL/],
  ["transfer_input_files = sub", /input 'sub' is a directory: .*list them, or send a tarball/],
  ["transfer_input_files = run.sh, nope.txt", /input file 'nope.txt' not found \(looked for/],
];

for (const [line, pattern] of cases) {
  test(`error: ${line}`, () => {
    const errors = errorsOf(`${HEADER}${line}\nqueue\n`);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].file, "job.sub");
    assert.equal(errors[0].line, 2);
    assert.match(errors[0].message, pattern);
  });
}

test("an undefined macro in the executable is an error (elsewhere it expands to nothing)", () => {
  const [e] = errorsOf("executable = $(prog).sh\noutput = $(nope).out\nqueue\n");
  assert.equal(e.line, 1);
  assert.match(e.message, /undefined macro \$\(prog\)/);
});

test("an undefined macro in the queue statement is an error", () => {
  const [e] = errorsOf(`${HEADER}queue $(count)\n`);
  assert.equal(e.line, 2);
  assert.match(e.message, /undefined macro \$\(count\)/);
});

test("a missing executable names the path it looked for", () => {
  const [e] = errorsOf("executable = nope.sh\nqueue\n");
  assert.equal(e.line, 1);
  assert.match(
    e.message,
    /executable 'nope.sh' not found \(looked for \/home\/alice\/work\/nope.sh\)/,
  );
});

test("the executable is looked for from the submit directory, not initialdir", () => {
  const files = { ...DEFAULT_FILES, "/home/alice/work/elsewhere/": "" };
  const [e] = errorsOf("initialdir = sub\nexecutable = nope.sh\nqueue\n", files);
  assert.match(e.message, /looked for \/home\/alice\/work\/nope.sh/);
});

test("no executable at all is an error on the queue line", () => {
  const [e] = errorsOf("request_cpus = 1\nqueue\n");
  assert.equal(e.line, 2);
  assert.match(e.message, /no 'executable'/);
});

test("every error is reported, in file order, and no job is queued", () => {
  const errors = errorsOf(
    [
      "executable = missing.sh", // 1
      "requirements = (", // 2
      "request_memory = 1 QB", // 3
      "ouput = x", // 4: a warning, not an error
      "universe = java", // 5
      "queue", // 6
    ].join("\n"),
  );
  assert.deepEqual(
    errors.map((e) => e.line),
    [1, 2, 3, 5],
  );
});

test("a per-job error is reported once, not once per job", () => {
  const errors = errorsOf(`executable = $(Item)$(undefined_thing)\nqueue Item in (a, b, c)\n`);
  assert.equal(errors.length, 1);
});

test("an error that depends on the item names the item's value", () => {
  const files = { ...DEFAULT_FILES, ["/home/alice/work/a.sh"]: "" };
  const errors = errorsOf("executable = $(Item).sh\nqueue Item in (a, b, c)\n", files);
  assert.deepEqual(
    errors.map((e) => e.message.replace(/ \(looked.*/, "")),
    ["executable 'b.sh' not found", "executable 'c.sh' not found"],
  );
});

test("a macro used only as a macro is not an unused line; an unused one is a warning", () => {
  const r = compile(`${HEADER}base = data\nunused_thing = 1\noutput = $(base).out\nqueue\n`);
  assert.ok(r.ok);
  assert.deepEqual(
    r.warnings.map((w) => w.line),
    [3],
  );
});

test("errors in -append lines name -append and their position", () => {
  const errors = errorsOf(`${HEADER}queue\n`, undefined, {
    appendLines: ["request_memory = 2 ZZ"],
  });
  assert.deepEqual(errors, [{ file: "-append", line: 1, message: errors[0].message }]);
  assert.match(errors[0].message, /unknown unit/);
});

test("a queue block that is never closed is an error", () => {
  const [e] = errorsOf(`${HEADER}queue X from (\n  a\n  b\n`);
  assert.match(e.message, /never closed/);
});

test("an appended queue statement when the file has one is an error", () => {
  const errors = errorsOf(`${HEADER}queue\n`, undefined, { appendLines: ["queue 2"] });
  assert.deepEqual(
    errors.map((e) => [e.file, e.line]),
    [["-append", 1]],
  );
  assert.match(errors[0].message, /the file has one/);
});

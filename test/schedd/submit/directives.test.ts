/**
 * `include`, `if`/`elif`/`else`/`endif`, `error` and `warning` in submit files, by HTCondor's
 * rules: read in order, conditions after macro expansion with only the macros above them,
 * `defined`, `version`, booleans, numbers and ClassAd expressions, `!` to negate.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CWD, DEFAULT_FILES, compile, errorsOf, jobOf, jobsOf } from "./helpers.js";

const EXE = "executable = run.sh\n";
const files = (extra: Record<string, string>) => ({ ...DEFAULT_FILES, ...extra });

test("include : FILE reads its commands in place, relative to the submit directory", () => {
  const job = jobOf(
    `${EXE}include : common.sub\nrequest_memory = 3G\nqueue\n`,
    files({ [`${CWD}/common.sub`]: 'request_memory = 1G\nrequest_cpus = 4\n+Site = "UCSD"\n' }),
  );
  assert.equal(job.get("RequestCpus"), "4");
  assert.equal(job.get("Site"), '"UCSD"');
  assert.equal(job.get("RequestMemory"), "3072", "a later line wins over the included one");
});

test("include errors name the included file and line; ifexist skips a missing file", () => {
  const errors = errorsOf(
    `${EXE}include : $(base)common.sub\nqueue\n`,
    files({ [`${CWD}/common.sub`]: "request_cpus = 4\nrequirements = (\n" }),
  );
  assert.deepEqual(
    errors.map((e) => [e.file, e.line]),
    [["common.sub", 2]],
  );
  const missing = errorsOf(`${EXE}include : nope.sub\nqueue\n`);
  assert.match(missing[0]!.message, /cannot read included file \/home\/alice\/work\/nope\.sub/);
  jobOf(`${EXE}include ifexist : nope.sub\nqueue\n`);
  const cmd = errorsOf(`${EXE}include command : ./make-settings.sh\nqueue\n`);
  assert.match(cmd[0]!.message, /include command is not supported: Updraft runs no command/);
  const loop = errorsOf(
    `${EXE}include : self.sub\nqueue\n`,
    files({ [`${CWD}/self.sub`]: "include : self.sub\n" }),
  );
  assert.match(loop[0]!.message, /includes nest more than 20 deep/);
});

test("if defined / elif / else / endif take the first branch whose condition holds", () => {
  const text = (pre: string) =>
    [
      EXE.trim(),
      pre,
      "if defined GPU",
      "  request_gpus = $(GPU)",
      "elif $(BIG)",
      "  request_memory = 8G",
      "else",
      "  request_memory = 1G",
      "endif",
      "queue",
      "",
    ].join("\n");
  assert.equal(jobOf(text("GPU = 2")).get("RequestGPUs"), "2");
  const big = jobOf(text("BIG = true"));
  assert.equal(big.get("RequestGPUs"), undefined);
  assert.equal(big.get("RequestMemory"), "8192");
  assert.equal(jobOf(text("BIG = false")).get("RequestMemory"), "1024");
  // An unset macro expands to nothing, which is false.
  assert.equal(jobOf(text("")).get("RequestMemory"), "1024");
});

test("conditions: !, numbers, yes/no, version, and ClassAd expressions", () => {
  const pick = (cond: string, pre = "") =>
    jobOf(`${EXE}${pre}if ${cond}\n+Took = true\nelse\n+Took = false\nendif\nqueue\n`).get("Took");
  assert.equal(pick("! defined NOPE"), "true");
  assert.equal(pick("0"), "false");
  assert.equal(pick("2"), "true");
  assert.equal(pick("yes"), "true");
  assert.equal(pick("version >= 8.9"), "true");
  assert.equal(pick("version < 8.9.11"), "false");
  assert.equal(pick("$(N) > 5", "N = 7\n"), "true");
  assert.equal(pick('"$(Site)" == "UCSD"', "Site = UCSD\n"), "true");
  // Only macros above the if count.
  assert.equal(
    jobOf(`${EXE}if defined LATER\n+Took = true\nendif\nLATER = 1\nqueue\n`).get("Took"),
    undefined,
  );
});

test("a bad condition, an unmatched else or endif, an unclosed if: errors with their line", () => {
  const bad = errorsOf(`${EXE}if version >= banana\nendif\nqueue\n`);
  assert.match(bad[0]!.message, /'banana' is not a version/);
  const notCond = errorsOf(`${EXE}if "a string"\nendif\nqueue\n`);
  assert.match(notCond[0]!.message, /is not a condition/);
  assert.equal(errorsOf(`${EXE}else\nqueue\n`)[0]!.line, 2);
  assert.match(errorsOf(`${EXE}endif\nqueue\n`)[0]!.message, /'endif' without a matching 'if'/);
  const open = errorsOf(`${EXE}if true\nqueue\n`);
  assert.deepEqual([open[0]!.line, open[0]!.message], [2, "'if' is never closed by 'endif'"]);
  assert.match(errorsOf(`${EXE}if true\nelse\nelse\nendif\nqueue\n`)[0]!.message, /after 'else'/);
});

test("error : stops the submit with its text; warning : submits and warns", () => {
  const [e] = errorsOf(
    `${EXE}if ! defined PROJECT\nerror : set PROJECT = name first\nendif\nqueue\n`,
  );
  assert.deepEqual([e!.line, e!.message], [3, "set PROJECT = name first"]);
  const r = compile(
    `${EXE}PROJECT = x\nwarning : project $(PROJECT) is deprecated\n+P = "$(PROJECT)"\nqueue\n`,
  );
  assert.ok(r.ok);
  assert.deepEqual(r.warnings, [{ file: "job.sub", line: 3, message: "project x is deprecated" }]);
});

test("a queue inside a taken branch queues; one in a dropped branch does not", () => {
  const text = `${EXE}if defined MANY\nqueue 3\nelse\nqueue 1\nendif\n`;
  assert.equal(jobsOf(`MANY = 1\n${text}`).length, 3);
  assert.equal(jobsOf(text).length, 1);
});

test("a macro that names itself means its value above: requirements = $(requirements) && ...", () => {
  const job = jobOf(
    `${EXE}requirements = (OpSys == "LINUX")\nrequirements = $(requirements) && (Arch == "X86_64")\nqueue\n`,
  );
  assert.match(job.get("Requirements")!, /^\(\(OpSys == "LINUX"\) && \(Arch == "X86_64"\)\)/);
  // With nothing above, the self-reference is empty (or its default).
  const first = jobOf(`${EXE}X = $(X:base)_more\n+Tag = "$(X)"\nqueue\n`);
  assert.equal(first.get("Tag"), '"base_more"');
  const chained = jobOf(`${EXE}X = a\nX = $(X)b\nX = $(X)c\n+Tag = "$(X)"\nqueue\n`);
  assert.equal(chained.get("Tag"), '"abc"');
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseStatements, sourceLines } from "../../../src/schedd/submit/statements.js";
import { jobOf } from "./helpers.js";

const parse = (text: string) => parseStatements(sourceLines(text, "f.sub"));

test("comments and blank lines are skipped; statements keep their first line number", () => {
  const s = parse("# a comment\n\n   # indented comment\nexecutable = run.sh\nqueue\n");
  assert.deepEqual(
    s.map((x) => [x.kind, x.line]),
    [
      ["assign", 4],
      ["queue", 5],
    ],
  );
});

test("a backslash at the end of a line continues the value on the next line", () => {
  const [a] = parse("arguments = one \\\n   two \\\n three\n");
  assert.equal(a.kind, "assign");
  assert.equal(a.kind === "assign" && a.value, "one two three");
  assert.equal(a.line, 1);
});

test("a '#' after a value is part of the value, as in condor_submit", () => {
  const [a] = parse("arguments = a#b\n");
  assert.equal(a.kind === "assign" && a.value, "a#b");
});

test("command names are case-insensitive", () => {
  const job = jobOf("EXECUTABLE = run.sh\nRequest_Memory = 100\nQueue\n");
  assert.equal(job.get("RequestMemory"), "100");
  assert.equal(job.get("Cmd"), '"/home/alice/work/run.sh"');
});

test("a line that is neither an assignment nor queue is reported", () => {
  const s = parse("executable run.sh\n");
  assert.equal(s[0].kind, "bad");
});

test("a queue block is read up to the line holding ')'", () => {
  const s = parse("queue x from (\n  a\n  b\n)\nexecutable = y\n");
  assert.equal(s[0].kind, "queue");
  assert.deepEqual(s[0].kind === "queue" && s[0].block, ["  a", "  b"]);
  assert.equal(s[1].kind, "assign");
  assert.equal(s[1].line, 5);
});

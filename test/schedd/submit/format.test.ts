import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../../src/classad/index.js";
import { formatErrors, formatJson, formatLongForm } from "../../../src/schedd/submit/index.js";
import { jobsOf } from "./helpers.js";

const FILE =
  'executable = run.sh\narguments = "a ""b"""\nrequirements = x =?= 1\n+Ratio = 1.5\nqueue 2\n';

test("the long form prints one 'Name = expr' per line, ads separated by a blank line", () => {
  const text = formatLongForm(jobsOf(FILE));
  const ads = text.split("\n\n");
  assert.equal(ads.length, 2);
  assert.match(ads[0], /^MyType = "Job"\n/m);
  assert.match(ads[1], /^ProcId = 1$/m);
  // Old syntax: only the quote is escaped, and =?= keeps its old spelling.
  assert.match(ads[0], /^Arguments = "a \\"b\\""$/m);
  assert.match(ads[0], /^Requirements = \(x =\?= 1\) && /m);
  // What condor_q -long style text says, the ClassAd engine reads back.
  const ad = ClassAd.parse(ads[1]);
  assert.equal(ad.evaluate("ProcId"), 1);
  assert.equal(ad.evaluate("Arguments"), 'a "b"');
});

test("JSON gives literals as JSON values and other expressions marked as condor_q does", () => {
  const [job] = JSON.parse(formatJson(jobsOf(FILE))) as Record<string, unknown>[];
  assert.equal(job.ProcId, 0);
  assert.equal(job.Owner, "alice");
  assert.equal(job.Ratio, 1.5);
  assert.equal(job.OnExitRemove, true);
  assert.equal(job.Arguments, 'a "b"');
  assert.equal(
    job.Requirements,
    "/Expr((x is 1) && (TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk))/",
  );
});

test("errors print as FILE:LINE: message", () => {
  assert.equal(
    formatErrors([
      { file: "a.sub", line: 3, message: "bad" },
      { file: "a.sub", line: 9, message: "worse" },
    ]),
    "a.sub:3: bad\na.sub:9: worse\n",
  );
});

test("large clusters print the same across chunk boundaries", () => {
  const jobs = jobsOf("executable = run.sh\noutput = o.$(Process)\nqueue 4500\n");
  const ads = formatLongForm(jobs).split("\n\n");
  assert.equal(ads.length, 4500);
  assert.match(ads[4499], /^Out = "o\.4499"$/m);
  assert.ok(ads.every((ad) => ad.startsWith("MyType = ")));
  const parsed = JSON.parse(formatJson(jobs)) as { ProcId: number }[];
  assert.deepEqual(
    parsed.map((j) => j.ProcId),
    jobs.map((j) => j.procId),
  );
});

test("no jobs print as nothing, or as an empty JSON array", () => {
  assert.equal(formatLongForm([]), "");
  assert.equal(formatJson([]), "[]\n");
});

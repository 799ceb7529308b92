import assert from "node:assert/strict";
import { test } from "node:test";
import { jobsOf } from "./helpers.js";

/** An environment that counts how often the compiler reads it (for `getenv`). */
function countingEnviron(): { environ: Record<string, string>; reads: () => number } {
  let reads = 0;
  const environ = new Proxy({ PATH: "/bin" } as Record<string, string>, {
    ownKeys(target) {
      reads++;
      return Reflect.ownKeys(target);
    },
  });
  return { environ, reads: () => reads };
}

test("attributes that do not depend on the job are computed once per queue statement", () => {
  const counter = countingEnviron();
  const jobs = jobsOf("executable = run.sh\ngetenv = true\nqueue 500\n", undefined, {
    environ: counter.environ,
  });
  assert.equal(jobs.length, 500);
  assert.equal(counter.reads(), 1);
  assert.equal(jobs[499].get("Environment"), '"PATH=/bin"');
});

test("attributes using a per-job macro are computed per job", () => {
  const counter = countingEnviron();
  const jobs = jobsOf(
    "executable = run.sh\ngetenv = true\nenvironment = N=$(Process)\nqueue 5\n",
    undefined,
    {
      environ: counter.environ,
    },
  );
  assert.equal(counter.reads(), 5);
  assert.deepEqual(
    jobs.map((j) => j.get("Environment")),
    ['"PATH=/bin N=0"', '"PATH=/bin N=1"', '"PATH=/bin N=2"', '"PATH=/bin N=3"', '"PATH=/bin N=4"'],
  );
});

test("a per-job macro used through another macro still makes the attribute per job", () => {
  const jobs = jobsOf(
    "executable = run.sh\nstem = run_$(Process)\noutput = $(stem).out\nqueue 3\n",
  );
  assert.deepEqual(
    jobs.map((j) => j.get("Out")),
    ['"run_0.out"', '"run_1.out"', '"run_2.out"'],
  );
});

test("jobs of a large cluster differ only where they should, in the same attribute order", () => {
  const jobs = jobsOf("executable = run.sh\noutput = o.$(Process)\nqueue 1000\n");
  const first = jobs[0].toRecord();
  const last = jobs[999].toRecord();
  assert.deepEqual(jobs[0].names(), jobs[999].names());
  const differing = Object.keys(first).filter((k) => first[k] !== last[k]);
  assert.deepEqual(differing, ["ProcId", "Out"]);
  assert.equal(last.ProcId, "999");
  assert.equal(jobs[999].size, jobs[0].names().length);
});

test("jobs of one queue statement expose their shared and own attributes", () => {
  const jobs = jobsOf("executable = run.sh\noutput = o.$(Process)\nqueue 2\nqueue 1\n");
  assert.equal(jobs[0].sharesLayoutWith(jobs[1]), true);
  assert.equal(jobs[1].sharesLayoutWith(jobs[2]), false);
  assert.deepEqual(jobs[1].ownAttributes(), [
    ["ProcId", "1"],
    ["Out", '"o.1"'],
  ]);
  const shared = new Map(jobs[1].sharedAttributes());
  assert.equal(shared.get("ClusterId"), "42");
  assert.equal(shared.has("ProcId"), false);
  assert.equal(shared.size + 2, jobs[1].size);
});

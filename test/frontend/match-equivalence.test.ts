import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ClassAd, ERROR, compileExpression, isTrueEquivalent } from "../../src/classad/index.js";
import { buildMatchMatrix } from "../../src/frontend/match-matrix.js";

const ctx = { now: () => 1_790_000_000 };
const EXPR = compileExpression(
  "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites) && " +
    "(TARGET.GLIDEIN_MaxMemMBs >= RequestMemory) && TARGET.GLIDEIN_CPUS >= MY.RequestCpus && " +
    "(MY.NeedsGpu =!= true || TARGET.GPUs > 0)",
);

// Values include missing attributes and wrong types so UNDEFINED and ERROR paths are exercised.
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const site = fc.constantFrom("A", "B", "C");
const entryArb = fc.record({
  site: maybe(site),
  mem: maybe(fc.oneof(fc.constantFrom(1000, 4000), fc.constant("big"))),
  cpus: maybe(fc.constantFrom(1, 8)),
  gpus: maybe(fc.constantFrom(0, 1)),
});
const jobArb = fc.record({
  sites: fc.subarray(["A", "B", "C"]),
  mem: maybe(fc.constantFrom(500, 2000, 8000)),
  cpus: fc.constantFrom(1, 4),
  gpu: maybe(fc.boolean()),
});

function toAd(attrs: Record<string, string | number | boolean | undefined>): ClassAd {
  const ad = new ClassAd();
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) ad.set(k, typeof v === "string" ? JSON.stringify(v) : String(v));
  }
  return ad;
}

test("the class-and-clause matrix agrees with evaluating every pair", () => {
  fc.assert(
    fc.property(
      fc.array(entryArb, { minLength: 1, maxLength: 12 }),
      fc.array(jobArb, { minLength: 1, maxLength: 8 }),
      (es, js) => {
        const entries = es.map((e, i) =>
          toAd({
            Name: `e${i}`,
            GLIDEIN_Site: e.site,
            GLIDEIN_MaxMemMBs: e.mem,
            GLIDEIN_CPUS: e.cpus,
            GPUs: e.gpus,
          }),
        );
        const jobs = js.map((j) =>
          toAd({
            DESIRED_Sites: j.sites.join(","),
            RequestMemory: j.mem,
            RequestCpus: j.cpus,
            NeedsGpu: j.gpu,
          }),
        );
        const m = buildMatchMatrix(EXPR, jobs, entries, [], ctx);
        const errors = new Map<number, number>();
        jobs.forEach((job, a) => {
          entries.forEach((entry, i) => {
            const v = job.evaluateExpr(EXPR, entry, { ctx });
            const c = m.entryClass[i]!;
            assert.equal([...m.matches[a]!].includes(c), isTrueEquivalent(v));
            if (v === ERROR && m.classMembers[c]![0] === i) errors.set(c, (errors.get(c) ?? 0) + 1);
          });
        });
        m.classMembers.forEach((_, c) => assert.equal(m.errors[c]?.count ?? 0, errors.get(c) ?? 0));
      },
    ),
    { numRuns: 200 },
  );
});

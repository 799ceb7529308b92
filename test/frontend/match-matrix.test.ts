import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, ERROR, compileExpression, isTrueEquivalent } from "../../src/classad/index.js";
import { buildMatchMatrix, entryAttributes } from "../../src/frontend/match-matrix.js";

const ctx = { now: () => 1_790_000_000 };
const MATCH = compileExpression(
  "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites) && TARGET.GLIDEIN_MaxMemMBs >= RequestMemory",
);

function entry(i: number, site: string, mem: number | string): ClassAd {
  return ClassAd.fromJSON({
    Name: `"e${i}"`,
    GLIDEIN_Site: `"${site}"`,
    GLIDEIN_MaxMemMBs: typeof mem === "number" ? String(mem) : `"${mem}"`,
    GLIDEIN_Gatekeeper: `"ce${i}.example.org"`,
  });
}

function job(sites: string, mem: number): ClassAd {
  return ClassAd.fromJSON({ DESIRED_Sites: `"${sites}"`, RequestMemory: String(mem) });
}

test("evaluating once per entry class gives the same answer as per entry", () => {
  const sites = ["A", "B", "C", "D"];
  const entries = Array.from({ length: 60 }, (_, i) =>
    entry(i, sites[i % 4]!, [2000, 4000, 8000][i % 3]!),
  );
  const jobs = [job("A,B", 3000), job("C", 1000), job("D,A", 9000), job("B,C,D", 4000)];
  const m = buildMatchMatrix(MATCH, jobs, entries, [], ctx);
  assert.equal(m.classMembers.length, 12, "4 sites x 3 memory sizes; the gatekeeper is not read");
  // Per conjunct: 4 DESIRED_Sites x 4 sites, then 4 RequestMemory x 3 memory sizes.
  assert.equal(m.evaluations, 16 + 12);
  jobs.forEach((j, a) => {
    const viaClasses = new Set<number>();
    for (const c of m.matches[a]!) for (const e of m.classMembers[c]!) viaClasses.add(e);
    entries.forEach((e, i) => {
      const direct = isTrueEquivalent(j.evaluateExpr(MATCH, e, { ctx }));
      assert.equal(viaClasses.has(i), direct, `job ${a} entry ${i}`);
    });
  });
});

test("an expression that errors against an entry is that entry's problem and no match", () => {
  const entries = [entry(0, "A", 4000), entry(1, "A", "lots")];
  const m = buildMatchMatrix(MATCH, [job("A", 1000)], entries, [], ctx);
  const cls = (i: number) => m.entryClass[i]!;
  assert.deepEqual([...m.matches[0]!], [cls(0)]);
  assert.equal(m.errors[cls(1)]?.count, 1);
  assert.match(m.errors[cls(1)]!.message, /ERROR/);
  assert.equal(m.errors[cls(0)], undefined);
});

test("entry attributes read through the job's own attributes separate classes too", () => {
  const expr = compileExpression("MY.FitsHere");
  const j = ClassAd.fromJSON({ FitsHere: 'TARGET.GLIDEIN_Country == "IT"' });
  assert.deepEqual(entryAttributes(expr, [j], []), ["glidein_country"]);
  const entries = [
    ClassAd.fromJSON({ Name: '"a"', GLIDEIN_Country: '"IT"' }),
    ClassAd.fromJSON({ Name: '"b"', GLIDEIN_Country: '"DE"' }),
  ];
  const m = buildMatchMatrix(expr, [j], entries, [], ctx);
  assert.equal(m.classMembers.length, 2);
  assert.deepEqual(
    [...m.matches[0]!].flatMap((c) => m.classMembers[c]!),
    [0],
  );
});

test("autoclusters that differ only in attributes the expression ignores are evaluated once", () => {
  const entries = [entry(0, "A", 4000), entry(1, "B", 4000)];
  const jobs = [
    ClassAd.fromJSON({ DESIRED_Sites: '"A"', RequestMemory: "1000", Owner: '"alice"' }),
    ClassAd.fromJSON({ DESIRED_Sites: '"A"', RequestMemory: "1000", Owner: '"bob"' }),
    ClassAd.fromJSON({ DESIRED_Sites: '"B"', RequestMemory: "1000", Owner: '"bob"' }),
  ];
  const m = buildMatchMatrix(MATCH, jobs, entries, [], ctx);
  // Sites: two job classes x two entry classes; memory: one of each.
  assert.equal(m.evaluations, 2 * 2 + 1);
  const entriesOf = (a: number) => [...m.matches[a]!].flatMap((c) => m.classMembers[c]!);
  assert.deepEqual([jobs.map((_, a) => entriesOf(a))], [[[0], [0], [1]]]);
});

test("a job attribute read by an entry's own attribute separates job classes", () => {
  const expr = compileExpression("TARGET.Fits");
  const entries = [ClassAd.fromJSON({ Name: '"a"', Fits: "TARGET.ImageSize < 100" })];
  const jobs = [ClassAd.fromJSON({ ImageSize: "50" }), ClassAd.fromJSON({ ImageSize: "500" })];
  const m = buildMatchMatrix(expr, jobs, entries, [], ctx);
  assert.equal(m.evaluations, 2);
  assert.deepEqual(
    m.matches.map((x) => x.length),
    [1, 0],
  );
});

test("errors count every autocluster of the job class", () => {
  const jobs = [job("A", 1000), job("A", 1000), job("A", 1000)];
  const m = buildMatchMatrix(MATCH, jobs, [entry(0, "A", "lots")], [], ctx);
  assert.equal(m.errors[0]?.count, 3);
});

test("combining conjuncts gives the whole expression's value, UNDEFINED and ERROR included", () => {
  const values: Record<string, string | undefined> = {
    t: "true",
    f: "false",
    u: undefined,
    e: '"not a boolean"',
  };
  const ad = (attrs: Record<string, string | undefined>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
    return ClassAd.fromJSON(out);
  };
  const expr = compileExpression("TARGET.X && (MY.Z && TARGET.Y)");
  const keys = Object.keys(values);
  const entries: ClassAd[] = [];
  for (const x of keys)
    for (const y of keys) entries.push(ad({ Name: `"${x}${y}"`, X: values[x], Y: values[y] }));
  const jobs = keys.map((z) => ad({ Z: values[z] }));
  const m = buildMatchMatrix(expr, jobs, entries, [], ctx);
  jobs.forEach((j, a) => {
    entries.forEach((e, i) => {
      const direct = j.evaluateExpr(expr, e, { ctx });
      const matched = [...m.matches[a]!].includes(m.entryClass[i]!);
      assert.equal(
        matched,
        isTrueEquivalent(direct),
        `job ${keys[a]} entry ${e.evaluate("Name") as string}`,
      );
    });
  });
  // ERRORs are counted per entry: each entry is its own class here.
  entries.forEach((e, i) => {
    const expected = jobs.filter((j) => j.evaluateExpr(expr, e, { ctx }) === ERROR).length;
    assert.equal(m.errors[m.entryClass[i]!]?.count ?? 0, expected, e.evaluate("Name") as string);
  });
});

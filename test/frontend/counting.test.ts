import assert from "node:assert/strict";
import { test } from "node:test";
import { countMatches, type EntryFacts, type JobGroupFacts } from "../../src/frontend/counting.js";
import type { MatchMatrix } from "../../src/frontend/match-matrix.js";

/** A matrix where each entry is its own class unless `classes` groups them. */
function matrix(entries: number, matches: number[][], classes?: number[][]): MatchMatrix {
  const classMembers = classes ?? Array.from({ length: entries }, (_, i) => [i]);
  const entryClass = new Int32Array(entries);
  classMembers.forEach((m, c) => m.forEach((e) => (entryClass[e] = c)));
  return {
    classMembers,
    entryClass,
    matches: matches.map((m) => Int32Array.from(m)),
    errors: [],
    evaluations: 0,
    overBound: new Map(),
    cycleExhausted: false,
  };
}

const up = (cpus = 1): EntryFacts => ({ glideinCpus: cpus, inDowntime: false });
const down: EntryFacts = { glideinCpus: 1, inDowntime: true };
const jobs = (count: number, cpus = 1, memory = 0): JobGroupFacts => ({ count, cpus, memory });

interface Case {
  name: string;
  entries: EntryFacts[];
  jobs: JobGroupFacts[];
  matches: number[][];
  classes?: number[][];
  count: number[];
  prop: number[];
  hereonly: number[];
  propMc: number[];
}

const cases: Case[] = [
  {
    name: "a job matching three entries counts at each, but a third of it in prop",
    entries: [up(), up(), up()],
    jobs: [jobs(9)],
    matches: [[0, 1, 2]],
    count: [9, 9, 9],
    prop: [3, 3, 3],
    hereonly: [0, 0, 0],
    propMc: [3, 3, 3],
  },
  {
    name: "hereonly counts jobs that match one entry only",
    entries: [up(), up()],
    jobs: [jobs(5), jobs(4)],
    matches: [[0], [0, 1]],
    count: [9, 4],
    prop: [7, 2],
    hereonly: [5, 0],
    propMc: [7, 2],
  },
  {
    name: "prop_mc scales by requested CPUs over the entry's GLIDEIN_CPUS",
    entries: [up(4), up(8)],
    jobs: [jobs(4, 4)],
    matches: [[0, 1]],
    count: [4, 4],
    prop: [2, 2],
    hereonly: [0, 0],
    propMc: [2, 1],
  },
  {
    name: "an uneven split keeps every job and no entry gets more than one extra",
    entries: [up(), up(), up()],
    jobs: [jobs(10)],
    matches: [[0, 1, 2]],
    count: [10, 10, 10],
    prop: [4, 3, 3],
    hereonly: [0, 0, 0],
    propMc: [4, 3, 3],
  },
  {
    name: "entries in downtime get no share; the live entries get it",
    entries: [up(), up(), down],
    jobs: [jobs(9)],
    matches: [[0, 1, 2]],
    count: [9, 9, 9],
    prop: [5, 4, 0],
    hereonly: [0, 0, 0],
    propMc: [5, 4, 0],
  },
  {
    name: "entries of one class share the class's matches",
    entries: [up(), up(), up()],
    jobs: [jobs(6)],
    matches: [[0]],
    classes: [[0, 2], [1]],
    count: [6, 0, 6],
    prop: [3, 0, 3],
    hereonly: [0, 0, 0],
    propMc: [3, 0, 3],
  },
  {
    name: "unmatched jobs count nowhere",
    entries: [up()],
    jobs: [jobs(7)],
    matches: [[]],
    count: [0],
    prop: [0],
    hereonly: [0],
    propMc: [0],
  },
];

for (const c of cases) {
  test(`counting: ${c.name}`, () => {
    const out = countMatches(matrix(c.entries.length, c.matches, c.classes), c.jobs, c.entries);
    assert.deepEqual([...out.count], c.count);
    assert.deepEqual([...out.prop], c.prop);
    assert.deepEqual([...out.hereonly], c.hereonly);
    assert.deepEqual([...out.propMc], c.propMc);
  });
}

test("counting: the remainder rotates between autoclusters", () => {
  const out = countMatches(
    matrix(2, [
      [0, 1],
      [0, 1],
    ]),
    [jobs(1), jobs(1)],
    [up(), up()],
  );
  assert.deepEqual([...out.prop], [1, 1]);
});

test("counting: prop sums to the matched jobs whatever the split", () => {
  const entries = Array.from({ length: 7 }, () => up());
  const js = [jobs(13), jobs(1), jobs(100), jobs(6)];
  const m = [[0, 1, 2, 3, 4, 5, 6], [3], [1, 4, 6], [0, 5]];
  const out = countMatches(matrix(7, m), js, entries);
  assert.equal(
    [...out.prop].reduce((a, b) => a + b, 0),
    120,
  );
});

test("counting: smallest memory per core among matching jobs is kept per entry", () => {
  const out = countMatches(
    matrix(2, [[0, 1], [0]]),
    [jobs(1, 2, 4000), jobs(1, 1, 1500)],
    [up(), up()],
  );
  assert.deepEqual([...out.minMemoryPerCore], [1500, 2000]);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { CWD, DEFAULT_FILES, errorsOf, jobsOf } from "./helpers.js";

const HEADER = "executable = run.sh\n";

/** Per job: ProcId and the Arguments text, which the tests fill with the macros under test. */
function run(body: string, files = DEFAULT_FILES): string[] {
  return jobsOf(HEADER + body, files).map((j) => `${j.procId}:${j.get("Arguments") ?? ""}`);
}

test("queue queues one job", () => {
  assert.deepEqual(run("arguments = $(Process)\nqueue\n"), ['0:"0"']);
});

test("queue N queues N jobs numbered from 0; $(ProcId) and $(Step) follow", () => {
  assert.deepEqual(run("arguments = $(ProcId) $(Step) $(Cluster) $(ClusterId)\nqueue 3\n"), [
    '0:"0 0 42 42"',
    '1:"1 1 42 42"',
    '2:"2 2 42 42"',
  ]);
});

test("queue takes an integer expression as its count", () => {
  assert.deepEqual(run("n = 2\nqueue $(n) * 2 - 1\n"), ["0:", "1:", "2:"]);
});

test("queue 0 queues nothing", () => {
  assert.deepEqual(run("queue 0\n"), []);
});

test("queue X in (a, b, c): one job per item, $(ItemIndex) counts items", () => {
  assert.deepEqual(run("arguments = $(X) $(ItemIndex)\nqueue X in (a, b, c)\n"), [
    '0:"a 0"',
    '1:"b 1"',
    '2:"c 2"',
  ]);
});

test("queue in (...) without a variable name uses $(Item); blanks separate items too", () => {
  assert.deepEqual(run("arguments = $(Item)\nqueue in (a b)\n"), ['0:"a"', '1:"b"']);
});

test("queue N X in (...) queues N jobs per item with $(Step) restarting per item", () => {
  assert.deepEqual(run("arguments = $(X) $(Step) $(Process)\nqueue 2 X in (a, b)\n"), [
    '0:"a 0 0"',
    '1:"a 1 1"',
    '2:"b 0 2"',
    '3:"b 1 3"',
  ]);
});

test('queue X in a, b without parentheses, as in condor_submit -append "queue X in A, B"', () => {
  assert.deepEqual(run("arguments = $(X)\nqueue X in a, b\n"), ['0:"a"', '1:"b"']);
});

for (const [slice, expected] of [
  ["[1:3]", ['0:"b 1"', '1:"c 2"']],
  ["[::2]", ['0:"a 0"', '1:"c 2"']],
  ["[-1:]", ['0:"d 3"']],
  ["[:]", ['0:"a 0"', '1:"b 1"', '2:"c 2"', '3:"d 3"']],
] as const) {
  test(`queue X in ${slice} (a, b, c, d) picks items, $(ItemIndex) keeps their place`, () => {
    assert.deepEqual(
      run(`arguments = $(X) $(ItemIndex)\nqueue X in ${slice} (a, b, c, d)\n`),
      expected,
    );
  });
}

test("a slice works with from ( ... ) too", () => {
  assert.deepEqual(run("arguments = $(A)\nqueue A from [1:] (\n  x\n  y\n)\n"), ['0:"y"']);
});

test("queue N from ( ... ) without a variable name uses $(Item)", () => {
  assert.deepEqual(run("arguments = $(Item)\nqueue 2 from (\n  a\n)\n"), ['0:"a"', '1:"a"']);
});

test("queue in ( ... ) may span lines", () => {
  assert.deepEqual(run("arguments = $(Item)\nqueue Item in (\n  a,\n  b\n)\n"), ['0:"a"', '1:"b"']);
});

test("queue X,Y from FILE splits each line among the variables; the last takes the rest", () => {
  const files = { ...DEFAULT_FILES, [`${CWD}/items.txt`]: "1, alpha one\n\n2 beta two\n" };
  const jobs = jobsOf(`${HEADER}output = $(X)|$(Y)|$(Row)\nqueue X,Y from items.txt\n`, files);
  assert.deepEqual(
    jobs.map((j) => j.get("Out")),
    ['"1|alpha one|0"', '"2|beta two|1"'],
  );
});

test("queue from ( ... ) reads the items inline", () => {
  assert.deepEqual(run("arguments = $(A)-$(B)\nqueue A B from (\n  x 1\n  # skipped\n  y 2\n)\n"), [
    '0:"x-1"',
    '1:"y-2"',
  ]);
});

test("queue X matching *.dat globs the submit directory, sorted", () => {
  const files = {
    ...DEFAULT_FILES,
    [`${CWD}/b.dat`]: "",
    [`${CWD}/a.dat`]: "",
    [`${CWD}/c.txt`]: "",
    [`${CWD}/.hidden.dat`]: "",
  };
  assert.deepEqual(run("arguments = $(X) $Fn(X)\nqueue X matching *.dat\n", files), [
    '0:"a.dat a"',
    '1:"b.dat b"',
  ]);
});

test("queue matching files / dirs keeps only files or only directories", () => {
  const files = { ...DEFAULT_FILES, [`${CWD}/d1/`]: "", [`${CWD}/f1`]: "" };
  assert.deepEqual(run("arguments = $(Item)\nqueue matching dirs *1\n", files), ['0:"d1"']);
  assert.deepEqual(run("arguments = $(Item)\nqueue matching files *1\n", files), ['0:"f1"']);
});

test("queue matching a pattern in a subdirectory", () => {
  const files = { ...DEFAULT_FILES, [`${CWD}/data/`]: "", [`${CWD}/data/r1.dat`]: "" };
  assert.deepEqual(run("arguments = $(Item)\nqueue matching data/*.dat\n", files), [
    '0:"data/r1.dat"',
  ]);
});

test("several queue statements: procs continue, each sees the settings above it", () => {
  const jobs = jobsOf(`${HEADER}request_cpus = 1\nqueue 2\nrequest_cpus = 4\nqueue\n`);
  assert.deepEqual(
    jobs.map((j) => [j.procId, j.get("RequestCpus")]),
    [
      [0, "1"],
      [1, "1"],
      [2, "4"],
    ],
  );
});

test("the queue line itself expands macros", () => {
  assert.deepEqual(run("n = 2\nqueue $(n)\n"), ["0:", "1:"]);
});

test("a queue from a missing items file is an error on the queue line", () => {
  const [e] = errorsOf(`${HEADER}queue X from nothere.txt\n`);
  assert.equal(e.line, 2);
  assert.match(e.message, /cannot read the items file 'nothere.txt'/);
});

for (const [line, pattern] of [
  ["queue many", /bad queue count/],
  ["queue 1 - 2", /bad queue count/],
  ["queue X matching", /needs a pattern/],
  ["queue X in", /needs a list/],
  ["queue X in [1:2:0] (a, b)", /bad slice/],
  ["queue X in [a:b] (a, b)", /bad slice/],
  ["queue X,Y matching *.dat", /one variable/],
  ["queue from", /needs a file/],
] as const) {
  test(`'${line}' is an error`, () => {
    const [e] = errorsOf(`${HEADER}${line}\n`);
    assert.equal(e.line, 2);
    assert.match(e.message, pattern);
  });
}

test("a file without a queue statement is an error", () => {
  const [e] = errorsOf(HEADER);
  assert.match(e.message, /no 'queue' statement/);
});

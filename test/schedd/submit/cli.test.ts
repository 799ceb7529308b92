import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../../../bin/updraft.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "updraft-submit-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n");
writeFileSync(join(dir, "a.dat"), "");
writeFileSync(join(dir, "b.dat"), "");
writeFileSync(
  join(dir, "good.sub"),
  "executable = run.sh\narguments = $(Item)\nrequest_memory = 1G\nqueue Item matching *.dat\n",
);
writeFileSync(
  join(dir, "bad.sub"),
  "executable = run.sh\nrequst_cpus = 2\nrequirements = (\nqueue\n",
);

function run(...args: string[]) {
  const env = { ...process.env };
  delete env.UPDRAFT_POOL;
  delete env.UPDRAFT_SCHEDD;
  return spawnSync(process.execPath, [bin, "submit", ...args], { cwd: dir, encoding: "utf8", env });
}

test("--dry-run prints the ads in the long form", () => {
  const r = run("--dry-run", "good.sub");
  assert.equal(r.status, 0, r.stderr);
  const ads = r.stdout.split("\n\n");
  assert.equal(ads.length, 2);
  assert.match(ads[0], /^Arguments = "a.dat"$/m);
  assert.match(ads[1], /^Arguments = "b.dat"$/m);
  assert.match(ads[1], /^RequestMemory = 1024$/m);
  assert.match(ads[0], new RegExp(`^Iwd = "${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"$`, "m"));
});

for (const flag of ["-json", "--json"]) {
  test(`--dry-run ${flag} prints a JSON array, with -append and -batch-name applied`, () => {
    const r = run("--dry-run", "good.sub", flag, "-append", "+Extra = 3", "-batch-name", "nightly");
    assert.equal(r.status, 0, r.stderr);
    const jobs = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      jobs.map((j) => [j.ProcId, j.Extra, j.JobBatchName]),
      [
        [0, 3, "nightly"],
        [1, 3, "nightly"],
      ],
    );
  });
}

test("errors go to stderr as FILE:LINE: message, exit 1, nothing on stdout; a typo warns", () => {
  const r = run("--dry-run", "bad.sub");
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^bad\.sub:2: WARNING: the line 'requst_cpus = 2' was unused by updraft submit\. Is it a typo\? \(did you mean 'request_cpus'\?\)$/,
  );
  assert.match(lines[1], /^bad\.sub:3: bad expression for requirements/);
  assert.match(lines[2], /no jobs were submitted/);
});

test("a file with only warnings is submitted, the warnings on stderr", () => {
  writeFileSync(
    join(dir, "warn.sub"),
    "executable = run.sh\nnotify_user = alice@example.org\nfrobnicate = 1\nqueue\n",
  );
  const r = run("--dry-run", "warn.sub");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^NotifyUser = "alice@example.org"$/m);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    "warn.sub:2: WARNING: 'notify_user' is accepted but has no effect: Updraft sends no mail",
    "warn.sub:3: WARNING: the line 'frobnicate = 1' was unused by updraft submit. Is it a typo?",
  ]);
});

test("without --dry-run and no schedd, it says how to name one", () => {
  const r = run("good.sub");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--schedd/);
  assert.match(r.stderr, /UPDRAFT_SCHEDD/);
});

test("without a schedd, a file's errors are still reported as FILE:LINE before the schedd", () => {
  const r = run("bad.sub");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^bad\.sub:3: bad expression for requirements/m);
  assert.match(r.stderr, /no jobs were submitted/);
  assert.equal(r.stderr.match(/requst_cpus/g)?.length, 1, "the warning is printed once");
});

test("attack: an output name that is a symbolic link on disk is refused, each job checked", () => {
  const links = join(dir, "links");
  mkdirSync(join(links, "out"), { recursive: true });
  mkdirSync(join(links, "real"));
  // Job 1's output is a link (to a file that is not there yet); job 0's is a plain name.
  symlinkSync(join(dir, "victim"), join(links, "out", "job.1.out"));
  // A link to a folder on the way is followed, as lstat follows it: only the last name counts.
  symlinkSync(join(links, "real"), join(links, "via"));
  writeFileSync(
    join(links, "links.sub"),
    [
      "executable = ../run.sh",
      "output = out/job.$(Process).out",
      "error = via/job.$(Process).err",
      "log = missing/dir/job.log",
      "queue 3",
      "",
    ].join("\n"),
  );
  const r = spawnSync(process.execPath, [bin, "submit", "--dry-run", "links.sub"], {
    cwd: links,
    encoding: "utf8",
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /output 'out\/job\.1\.out' is a symbolic link in initialdir/);
  assert.doesNotMatch(r.stderr, /job\.[02]\.out|via\//);
});

test("an unknown option and a missing file are plain errors", () => {
  assert.match(run("--dry-run", "good.sub", "-frob").stderr, /unknown option '-frob'/);
  const missing = run("--dry-run", "nope.sub");
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read nope\.sub/);
});

test("--dry-run expands HTCondor's macro functions per job (an OSG-style sweep)", () => {
  writeFileSync(
    join(dir, "sweep.sub"),
    [
      "executable = run.sh",
      "seed = $(Process) * 1000 + 17",
      "arguments = --seed $INT(seed) --mass $REAL(mass,%.1f) --site $CHOICE(Process,sites)",
      "sites = T2_US_MIT,T2_US_UCSD,T2_US_Purdue",
      "output = out/job_$INT(Process,%04d).out",
      "queue mass in (125, 126.5, 130)",
      "",
    ].join("\n"),
  );
  const r = run("--dry-run", "sweep.sub");
  assert.equal(r.status, 0, r.stderr);
  const ads = r.stdout.split("\n\n");
  assert.equal(ads.length, 3);
  assert.match(ads[0], /^Arguments = "--seed 17 --mass 125.0 --site T2_US_MIT"$/m);
  assert.match(ads[2], /^Arguments = "--seed 2017 --mass 130.0 --site T2_US_Purdue"$/m);
  assert.match(ads[1], /^Out = "out\/job_0001.out"$/m);
});

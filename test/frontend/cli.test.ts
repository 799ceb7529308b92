import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "bin/updraft.js");
const CONFIG = join(root, "config/frontend.yaml");
const SNAPSHOT = join(root, "test/frontend/fixtures/snapshot.json");

function run(...args: string[]) {
  return spawnSync(process.execPath, [bin, "frontend", ...args], { encoding: "utf8" });
}

test("plan prints a table per group with counts, requests and what bound them", () => {
  const r = run("plan", "--config", CONFIG, "--snapshot", SNAPSHOT);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^group main: 42 idle jobs, 0 unmatched/m);
  assert.match(r.stdout, /REQ_IDLE\s+REQ_MAX/);
  assert.match(
    r.stdout,
    /^ucsd_ce1@gfactory@osg\s+30\s+10\s+0\s+10\s+9\s+1\/1\/0\s+3\s+12\s+NO\s+ramp-up \/3$/m,
  );
  assert.match(r.stdout, /^ucsd_down@gfactory@osg \(down\).*entry in downtime$/m);
  assert.match(r.stdout, /^group gpu: 4 idle jobs/m);
  // The attributes each group sends its pilots, the group's own marked.
  assert.match(r.stdout, /^attrs sent: VO_Software_Dir="\/cvmfs\/vo.example.org" \[slot,job\]$/m);
  assert.match(
    r.stdout,
    /^attrs sent: VO_GPU_Pilot=1 \[slot\] \(group\), VO_Software_Dir="\/cvmfs\/vo.example.org" \[slot,job\]$/m,
  );
});

for (const flag of ["-json", "--json"]) {
  test(`plan ${flag} prints JSON`, () => {
    const out = execFileSync(
      process.execPath,
      [bin, "frontend", "plan", "--config", CONFIG, "--snapshot", SNAPSHOT, flag],
      {
        encoding: "utf8",
      },
    );
    const doc = JSON.parse(out) as {
      groups: { group: string; entries: { entry: string; request: { idle: number } }[] }[];
    };
    assert.deepEqual(
      doc.groups.map((g) => g.group),
      ["main", "gpu"],
    );
    const gpu = doc.groups[1]!.entries.find((e) => e.entry === "purdue_gpu@gfactory@osg")!;
    assert.equal(gpu.request.idle, 1);
    const attrs = (doc.groups[1] as unknown as { attrs: { name: string; from: string }[] }).attrs;
    assert.deepEqual(
      attrs.map((a) => `${a.name}:${a.from}`),
      ["VO_GPU_Pilot:group", "VO_Software_Dir:frontend"],
    );
  });
}

test("plan: a missing snapshot names the file and exits non-zero", () => {
  const r = run("plan", "--config", CONFIG, "--snapshot", "/nonexistent/snap.json");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\/nonexistent\/snap\.json: cannot read/);
});

test("plan: a bad snapshot and a bad config say what is wrong and where", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-fe-"));
  const snap = join(dir, "snap.json");
  writeFileSync(
    snap,
    JSON.stringify({
      autoclusters: [{ id: "1", schedd: "s", count: -1, job: {} }],
      factory_ads: [],
    }),
  );
  const r1 = run("plan", "--config", CONFIG, "--snapshot", snap);
  assert.notEqual(r1.status, 0);
  assert.match(r1.stderr, /snap\.json: autoclusters\.0\.count/);
  const cfg = join(dir, "fe.yaml");
  writeFileSync(
    cfg,
    "name: x\ncollector: { url: wss://c }\nschedds: [s]\nsecurity: { identity: i, credentials: [{ file: f }] }\nfactories: [{ name: f, identity: /CN=f }]\ngroups:\n  - name: g\n    match_expr: a ==\n",
  );
  const r2 = run("plan", "--config", cfg, "--snapshot", SNAPSHOT);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /fe\.yaml: 1 problem/);
  assert.match(r2.stderr, /groups\[0\]\.match_expr \(line 8\): bad ClassAd expression at column/);
});

test("plan: an unknown option is refused", () => {
  const r = run("plan", "--config", CONFIG, "--snapshot", SNAPSHOT, "-xml");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown option '-xml'/);
});

test("explain names the failing clause of each entry a job does not match", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-fe-"));
  const job = join(dir, "job.ad");
  writeFileSync(job, '[ DESIRED_Sites = "UCSD"; RequestCpus = 1; RequestMemory = 3000 ]');
  const r = run("explain", job, "--config", CONFIG, "--snapshot", SNAPSHOT);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\+ ucsd_ce1@gfactory@osg\n/);
  assert.match(r.stdout, /\+ ucsd_down@gfactory@osg \(in downtime/);
  assert.match(
    r.stdout,
    /- purdue_ce1@gfactory@osg\n\s+fails: stringListMember\(TARGET\.GLIDEIN_Site,MY\.DESIRED_Sites\)\s+=> false/,
  );
  assert.match(
    r.stdout,
    /group gpu:\n {2}attrs sent: VO_GPU_Pilot=1 \[slot\] \(group\), .*\n\s+the group's job query does not select this job/,
  );
  const j = run("explain", "-json", job, "--config", CONFIG, "--snapshot", SNAPSHOT);
  assert.equal(j.status, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as {
    groups: { entries: { entry: string; matches: boolean; failed: unknown[] }[] }[];
  };
  const purdue = doc.groups[0]!.entries.find((e) => e.entry === "purdue_ce1@gfactory@osg")!;
  assert.equal(purdue.matches, false);
  assert.equal(purdue.failed.length, 1);
});

test("explain says which schedds a group serves and passes over a job held elsewhere", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-fe-"));
  const cfg = join(dir, "frontend.yaml");
  writeFileSync(
    cfg,
    readFileSync(CONFIG, "utf8").replace(
      "  - name: main\n",
      "  - name: main\n    schedds: [wss://schedd1.vo.example.org:9619]\n",
    ),
  );
  const job = join(dir, "job.ad");
  writeFileSync(job, '[ DESIRED_Sites = "UCSD"; RequestCpus = 1; RequestMemory = 3000 ]');
  const unknown = run("explain", job, "--config", cfg, "--snapshot", SNAPSHOT);
  assert.equal(unknown.status, 0, unknown.stderr);
  assert.match(
    unknown.stdout,
    /group main:\n(.*\n)* {2}serves only the jobs of wss:\/\/schedd1\.vo\.example\.org:9619\n {2}matches/,
  );
  assert.match(unknown.stdout, /\+ ucsd_ce1@gfactory@osg\n/);

  const other = "wss://schedd2.vo.example.org:9619";
  const elsewhere = run("explain", job, "--config", cfg, "--snapshot", SNAPSHOT, "--schedd", other);
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  const [main, gpu] = elsewhere.stdout.split("\ngroup gpu");
  assert.match(main!, /this job's schedd is not among them: it gets no pilots from this group/);
  assert.doesNotMatch(
    main!,
    /ucsd_ce1/,
    "no entry is weighed for a schedd the group does not serve",
  );
  assert.doesNotMatch(gpu!, /serves only/, "a group without schedds serves every schedd");

  const served = run(
    "explain",
    "-json",
    job,
    "--config",
    cfg,
    "--snapshot",
    SNAPSHOT,
    "--schedd",
    "wss://schedd1.vo.example.org:9619",
  );
  assert.equal(served.status, 0, served.stderr);
  const doc = JSON.parse(served.stdout) as {
    groups: { group: string; schedds?: string[]; servedSchedd: boolean; entries: unknown[] }[];
  };
  assert.deepEqual(doc.groups[0]!.schedds, ["wss://schedd1.vo.example.org:9619"]);
  assert.equal(doc.groups[0]!.servedSchedd, true);
  assert.ok(doc.groups[0]!.entries.length > 0);
});

test("plan and explain show the VO scripts and job wrapper each group sends", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-fe-"));
  const cfg = join(dir, "frontend.yaml");
  const withScripts = readFileSync(CONFIG, "utf8")
    .replace(
      "  - name: gpu\n",
      "  - name: gpu\n    scripts: [{ file: /opt/vo/check-gpu.sh, when: periodic, period_s: 300 }]\n",
    )
    .concat(
      "\nstaging: { dir: /var/lib/fe-stage, url: https://fe.example.org/stage }",
      "\nscripts: [{ file: /opt/vo/check-software.sh }]",
      "\njob_wrapper: { file: /opt/vo/wrap.sh, post_job: /opt/vo/post.sh, timeout_s: 60 }\n",
    );
  writeFileSync(cfg, withScripts);
  const r = run("plan", "--config", cfg, "--snapshot", SNAPSHOT);
  assert.equal(r.status, 0, r.stderr);
  const [main, gpu] = r.stdout.split("\ngroup gpu");
  assert.match(
    main!,
    /^scripts sent: start: \/opt\/vo\/check-software\.sh; job wrapper: \/opt\/vo\/wrap\.sh; post-job \(60 s\): \/opt\/vo\/post\.sh$/m,
  );
  assert.doesNotMatch(main!, /check-gpu/, "a group's own script goes to that group alone");
  assert.match(
    gpu!,
    /^scripts sent: start: \/opt\/vo\/check-software\.sh; periodic every 300 s: \/opt\/vo\/check-gpu\.sh; job wrapper/m,
  );

  const j = run("plan", "--json", "--config", cfg, "--snapshot", SNAPSHOT);
  assert.equal(j.status, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as { groups: { group: string; voScripts: string[] }[] };
  assert.deepEqual(doc.groups[1]!.voScripts, [
    "start: /opt/vo/check-software.sh",
    "periodic every 300 s: /opt/vo/check-gpu.sh",
    "job wrapper: /opt/vo/wrap.sh",
    "post-job (60 s): /opt/vo/post.sh",
  ]);

  const job = join(dir, "job.ad");
  writeFileSync(job, '[ DESIRED_Sites = "UCSD"; RequestCpus = 1; RequestMemory = 3000 ]');
  const x = run("explain", job, "--config", cfg, "--snapshot", SNAPSHOT);
  assert.equal(x.status, 0, x.stderr);
  assert.match(x.stdout, /^ {2}scripts sent: start: \/opt\/vo\/check-software\.sh; job wrapper/m);
});

test("VO scripts without a staging area are refused at load, naming where to configure it", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-fe-"));
  const cfg = join(dir, "frontend.yaml");
  writeFileSync(
    cfg,
    readFileSync(CONFIG, "utf8") + "\nscripts: [{ file: /opt/vo/a.sh, when: periodic }]\n",
  );
  const r = run("plan", "--config", cfg, "--snapshot", SNAPSHOT);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /scripts\[0\]\.period_s \(line \d+\): a periodic script needs period_s/);
  assert.match(r.stderr, /staging.*configure staging/);
});

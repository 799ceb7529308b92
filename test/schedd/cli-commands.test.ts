/** The user commands, spawned as `bin/updraft.js`, against a real schedd. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { slot, startEnv, type TestEnv } from "./harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const run = promisify(execFile);

let env: TestEnv;
let work: string;
before(async () => {
  env = await startEnv();
  work = join(env.dir, "submit");
  mkdirSync(work);
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\necho hello\n");
  writeFileSync(join(work, "data.txt"), "input data\n");
});
after(() => env.close());

type Result = { code: number; stdout: string; stderr: string };

async function updraft(args: string[], who: "alice" | "bob" = "alice"): Promise<Result> {
  const creds =
    who === "alice"
      ? { X509_USER_PROXY: env.pki.proxy.file }
      : { X509_USER_CERT: env.creds.bob.certFile, X509_USER_KEY: env.creds.bob.keyFile };
  try {
    const r = await run(process.execPath, [bin, ...args], {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: env.dir,
        UPDRAFT_CONFIG: join(env.dir, "no-such-client.yaml"),
        UPDRAFT_SCHEDD: env.schedd.url(),
        X509_CERT_DIR: env.pki.caDir,
        ...creds,
      },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function submitFile(name: string, body: string): string {
  writeFileSync(join(work, name), body);
  return name;
}

test("submit, q, hold, release, qedit, rm and history", async () => {
  const file = submitFile(
    "two.sub",
    "executable = run.sh\ntransfer_input_files = data.txt\nrequest_memory = 512\nqueue 2\n",
  );
  const sub = await updraft(["submit", file]);
  assert.equal(sub.code, 0, sub.stderr);
  const m = /^2 job\(s\) submitted to cluster (\d+)\.$/m.exec(sub.stdout);
  assert.ok(m, sub.stdout);
  const c = m[1]!;

  let q = await updraft(["q", c, "-af", "ClusterId", "ProcId", "JobStatus", "RequestMemory"]);
  assert.equal(q.stdout, `${c} 0 1 512\n${c} 1 1 512\n`);
  q = await updraft(["q", "-totals"]);
  assert.match(
    q.stdout,
    /^Total for query: 2 jobs; 0 completed, 0 removed, 2 idle, 0 running, 0 held, 0 suspended$/m,
  );

  assert.equal(
    (await updraft(["hold", `${c}.0`, "-reason", "look first"])).stdout,
    `Job ${c}.0 marked for hold\n`,
  );
  q = await updraft(["q", "-hold"]);
  assert.match(q.stdout, new RegExp(`${c}\\.0 .*look first`));
  assert.match(q.stdout, /1 held/);
  assert.equal((await updraft(["release", `${c}.0`])).code, 0);
  const released = await updraft(["q", `${c}.0`, "-af", "ReleaseReason"]);
  assert.equal(released.stdout, "via updraft release (by user alice)\n");

  const bobRm = await updraft(["rm", `${c}.1`], "bob");
  assert.equal(bobRm.code, 1);
  assert.match(bobRm.stderr, /permission denied: owned by alice/);

  const qe = await updraft(["qedit", `${c}.1`, "JobPrio", "5"]);
  assert.equal(qe.stdout, 'Set attribute "JobPrio" for 1 matching jobs.\n');
  const long = await updraft(["q", `${c}.1`, "-long"]);
  assert.match(long.stdout, /^JobPrio = 5$/m);
  const json = JSON.parse((await updraft(["q", `${c}.1`, "-json"])).stdout) as Record<
    string,
    unknown
  >[];
  assert.equal(json[0]!.JobPrio, 5);
  assert.equal(json[0]!.Owner, "alice");

  assert.equal(
    (await updraft(["rm", "-constraint", `ClusterId == ${c} && ProcId == 1`])).stdout,
    `Job ${c}.1 marked for removal\n`,
  );
  const hist = await updraft(["history", "-limit", "1", "-af", "ClusterId", "ProcId", "JobStatus"]);
  assert.equal(hist.stdout, `${c} 1 3\n`);

  const nb = await updraft(["q", "-nobatch"]);
  assert.match(nb.stdout, new RegExp(`^ ${c}\\.0 +alice .* I `, "m"));
  const batch = await updraft(["q"]);
  assert.match(batch.stdout, /OWNER +BATCH_NAME/);
  await updraft(["rm", "alice"]);
  // condor_history -match N: at most N jobs, newest first (both left within one clock tick).
  const one = await updraft(["history", c, "-match", "1", "-af", "ProcId"]);
  assert.match(one.stdout, /^[01]\n$/);
  const both = await updraft(["history", c, "-match", "5", "-af", "ProcId"]);
  assert.deepEqual(both.stdout.trim().split("\n").sort(), ["0", "1"]);
});

test("a job runs through a pilot; wait exits 0 and transfer-output fetches its output", async () => {
  const file = submitFile(
    "one.sub",
    "executable = run.sh\ntransfer_input_files = data.txt\nqueue\n",
  );
  const c = /cluster (\d+)/.exec((await updraft(["submit", file])).stdout)![1]!;
  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${c}.0`);
  const names: string[] = [];
  for await (const chunk of pilot.fetchInput(offer.leaseId)) if (chunk.last) names.push(chunk.name);
  assert.deepEqual(names.sort(), ["data.txt", "run.sh"]);
  const out = Buffer.from("hello\n");
  const { createHash } = await import("node:crypto");
  const sha256 = createHash("sha256").update(out).digest("hex");
  await pilot.putOutput({
    name: "out.txt",
    offset: 0,
    data: out,
    last: true,
    sha256,
    leaseId: offer.leaseId,
    jobId: "",
  });
  await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });

  const wait = await updraft(["wait", c, "--timeout", "30"]);
  assert.equal(wait.code, 0, wait.stderr);
  assert.match(wait.stdout, /1\/1 finished: 0 idle, 0 running, 0 held, 1 done, 0 failed/);
  const dest = join(env.dir, "fetched");
  const tr = await updraft(["transfer-output", `${c}.0`, "--dir", dest]);
  assert.equal(tr.code, 0, tr.stderr);
  assert.equal(readFileSync(join(dest, "out.txt"), "utf8"), "hello\n");
});

test("wait exits non-zero when a job failed or is held, and 2 on timeout", async () => {
  const file = submitFile("w.sub", "executable = /bin/true\nqueue 2\n");
  const c = /cluster (\d+)/.exec((await updraft(["submit", file])).stdout)![1]!;
  const timedOut = await updraft(["wait", c, "--timeout", "0"]);
  assert.equal(timedOut.code, 2);
  assert.match(timedOut.stderr, /timed out/);
  await updraft(["hold", `${c}.0`]);
  const offer = await env.client("pilot").claimJob(slot());
  await env.client("pilot").completeJob({ leaseId: offer.leaseId, exitCode: 3 });
  const wait = await updraft(["wait", c]);
  assert.equal(wait.code, 1);
  assert.match(wait.stdout, /1 held, 0 done, 1 failed/);
  await updraft(["rm", c]);
});

test("q shows only one's own jobs unless -allusers or a user is named", async () => {
  const bobs = await env.client("bob").newCluster();
  await env.client("bob").submitJobs(bobs, [{ Cmd: '"/bin/true"', Requirements: "true" }]);
  const mine = await updraft(["q", "-af", "Owner"]);
  assert.doesNotMatch(mine.stdout, /bob/);
  const all = await updraft(["q", "-allusers", "-af", "Owner"]);
  assert.match(all.stdout, /^bob$/m);
  const named = await updraft(["q", "bob", "-af", "ClusterId"]);
  assert.equal(named.stdout, `${bobs}\n`);
  await env.client("bob").act("remove", { ids: [String(bobs)] });
});

test("errors name what and where", async () => {
  const bad = submitFile("bad.sub", "executable = run.sh\nfrobnicate = 3\nrank = (\nqueue\n");
  const sub = await updraft(["submit", bad]);
  assert.equal(sub.code, 1);
  assert.match(sub.stderr, /bad\.sub:2: WARNING: the line 'frobnicate = 3' was unused/);
  assert.match(sub.stderr, /bad\.sub:3: bad expression for rank/);
  assert.match(sub.stderr, /no jobs were submitted/);

  const down = await updraft(["q", "--schedd", "wss://127.0.0.1:1/"]);
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /cannot reach the schedd at wss:\/\/127\.0\.0\.1:1\/.*check that it is running/,
  );

  const badId = await updraft(["wait", "x.y"]);
  assert.match(badId.stderr, /'x\.y' is not a job id/);
});

test("every user command has --help, and --dry-run needs no schedd", async () => {
  for (const cmd of [
    "submit",
    "q",
    "history",
    "rm",
    "hold",
    "release",
    "qedit",
    "wait",
    "transfer-output",
    "schedd",
  ]) {
    const r = await updraft([cmd, "--help"]);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`Usage: updraft ${cmd}`));
  }
  const file = submitFile("dry.sub", "executable = run.sh\nqueue 2\n");
  const dry = await updraft(["submit", "-dry-run", file, "--schedd", "wss://127.0.0.1:1/"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^ProcId = 1$/m);
});

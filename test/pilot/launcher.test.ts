/**
 * The pilot's job launcher process at real processes: what a job's end, a start failure and a
 * kill look like through it (the same as through the pilot's own spawn), and what happens when
 * the pilot or the launcher itself is killed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { pino } from "pino";
import type { JobSpec } from "../../src/pilot/runner/job-spec.js";
import {
  encodeFrame,
  FrameDecoder,
  type LaunchRequest,
  MAX_ANSWER_BYTES,
} from "../../src/pilot/runner/launch-protocol.js";
import {
  createProcessLauncher,
  inProcessLauncher,
  type JobLauncher,
  LAUNCHER_SCRIPT,
} from "../../src/pilot/runner/launcher.js";
import { type JobOutcome, startJob } from "../../src/pilot/runner/run-job.js";

const root = mkdtempSync(join(tmpdir(), "updraft-launcher-"));
const launcher = createProcessLauncher();
// Until it is ready jobs start in the test's own process: these tests are about the launcher.
before(async () => assert.equal(await launcher.ready(), true));
after(async () => {
  await launcher.close();
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Running: not gone, and not a zombie left for whoever adopted it to reap. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
};
/** Waits for a condition on a loaded machine: generous, never a fixed sleep. */
async function eventually<T>(what: string, f: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    await sleep(50);
  }
  throw new Error(`never: ${what}`);
}
const readPid = (file: string) => {
  try {
    const n = Number(readFileSync(file, "utf8"));
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
};

/** The live job launchers whose parent is `parent`. */
function launchersOf(parent: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const zombie = stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
      if (ppid !== parent || zombie) continue;
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes("launcher-process.js")) {
        out.push(Number(e));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let n = 0;
function job(executable: string, args: string[], extra: Partial<JobSpec> = {}): JobSpec {
  const sandboxDir = mkdtempSync(join(root, `job${++n}-`));
  return {
    jobId: `1.${n}`,
    sandboxDir,
    executable,
    args,
    env: {},
    stdout: join(sandboxDir, "_condor_stdout"),
    stderr: join(sandboxDir, "_condor_stderr"),
    ...extra,
  };
}

const via = (l: JobLauncher, spec: JobSpec) =>
  startJob(spec, { launcher: l, pollMs: 100, killGraceMs: 200, baseEnv: process.env });
/** What may differ between two runs of the same job: timing and sampled use. */
const shape = (o: JobOutcome) => ({ ...o, wallS: 0, userS: 0, sysS: 0, peakRssMb: 0 });

test("exit codes, signals and output come back as from the pilot's own spawn", async () => {
  const cases: [string, string[]][] = [
    ["/bin/sh", ["-c", "echo out; echo err >&2; exit 3"]],
    ["/bin/sh", ["-c", "kill -SEGV $$"]],
    ["/bin/true", []],
  ];
  for (const [cmd, args] of cases) {
    const spec = job(cmd, args);
    const through = await via(launcher, spec).done;
    const own = await via(inProcessLauncher, job(cmd, args)).done;
    assert.deepEqual(shape(through), { ...shape(own), jobId: spec.jobId }, `${cmd} ${args}`);
  }
  const s = job("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"]);
  const o = await via(launcher, s).done;
  assert.deepEqual([o.exitCode, o.signal], [3, null]);
  assert.equal(readFileSync(s.stdout, "utf8"), "out\n");
  assert.equal(readFileSync(s.stderr, "utf8"), "err\n");
  const segv = await via(launcher, job("/bin/sh", ["-c", "kill -SEGV $$"])).done;
  assert.deepEqual([segv.exitCode, segv.signal], [null, "SIGSEGV"]);
});

test("the job's environment, working directory and standard input are its own", async () => {
  const s = job("/bin/sh", ["-c", 'read l; echo "$l|$PWD|$GREETING|$TMPDIR"'], {
    env: { GREETING: "hello there" },
    stdin: "",
  });
  s.stdin = join(s.sandboxDir, "in.txt");
  writeFileSync(s.stdin, "line1\n");
  const o = await via(launcher, s).done;
  assert.equal(o.exitCode, 0);
  const d = s.sandboxDir;
  assert.equal(readFileSync(s.stdout, "utf8"), `line1|${d}|hello there|${d}/tmp\n`);
});

test("start failures keep their hold codes and errno", async () => {
  const notExecutable = join(root, "not-executable");
  writeFileSync(notExecutable, "#!/bin/sh\n");
  chmodSync(notExecutable, 0o644);
  const garbage = join(root, "garbage");
  writeFileSync(garbage, "\x7fELF\x02 not a program");
  chmodSync(garbage, 0o755);
  const blocked = job("/bin/echo", []);
  writeFileSync(join(blocked.sandboxDir, "blocker"), "");
  blocked.stdout = join(blocked.sandboxDir, "blocker", "job.out");
  const specs: [JobSpec, JobSpec][] = [
    [job(join(root, "no-such-program"), []), job(join(root, "no-such-program"), [])],
    [job(notExecutable, []), job(notExecutable, [])],
    [job(garbage, []), job(garbage, [])],
    [job("/bin/cat", [], { stdin: join(root, "missing.txt") }), job("/bin/cat", [])],
  ];
  specs[3]![1].stdin = join(root, "missing.txt");
  const outcomes: JobOutcome[] = [];
  for (const [a, b] of specs) {
    const through = await via(launcher, a).done;
    const own = await via(inProcessLauncher, b).done;
    assert.deepEqual(shape(through), { ...shape(own), jobId: a.jobId });
    outcomes.push(through);
  }
  assert.deepEqual(outcomes[0]!.startFailure, { code: 6, subcode: 2 });
  assert.match(outcomes[0]!.startError ?? "", /ENOENT/);
  assert.deepEqual(outcomes[1]!.startFailure, { code: 6, subcode: 13 });
  assert.deepEqual(outcomes[3]!.startFailure, { code: 8, subcode: 2 });
  const out = await via(launcher, blocked).done;
  assert.equal(out.startFailure?.code, 7);
  assert.ok([17, 20].includes(out.startFailure?.subcode ?? 0), `${out.startFailure?.subcode}`);
});

test("a kill ends the job's whole process group, a grandchild too", async () => {
  const s = job("/bin/sh", ["-c", 'trap "" TERM; sleep 300 & echo $! > gc; wait']);
  const running = via(launcher, s);
  const pid = await running.started;
  const grandchild = await eventually("the grandchild's pid", () =>
    readPid(join(s.sandboxDir, "gc")),
  );
  assert.ok(pid !== undefined && alive(pid), `job ${pid} runs`);
  assert.equal(running.pid, pid);
  running.kill("held", "held by the test");
  const o = await running.done;
  assert.deepEqual(o.killed, { kind: "held", holdReason: "held by the test" });
  // The shell ignores TERM: it ended at the grace period's KILL, its grandchild with it.
  assert.equal(o.signal, "SIGKILL");
  await eventually("the grandchild gone", () => !alive(grandchild));
});

test("a walltime limit ends a job started through the launcher", async () => {
  const o = await via(launcher, job("/bin/sleep", ["300"], { walltimeS: 1 })).done;
  assert.equal(o.killed?.kind, "walltime");
  assert.equal(o.signal, "SIGTERM");
});

test("a memory hog started through the launcher is killed at its request", async () => {
  const hog =
    "const a=[]; for(let i=0;i<40;i++) a.push(Buffer.alloc(8<<20, 1)); setTimeout(()=>{}, 30000)";
  const o = await via(launcher, job(process.execPath, ["-e", hog], { memoryLimitMb: 64 })).done;
  assert.equal(o.killed?.kind, "memory");
  assert.equal(o.signal, "SIGKILL");
  assert.match(o.killed?.holdReason ?? "", /over memory limit of 64 megabytes/);
});

test("SIGTERM to the pilot's process group leaves the launcher running its jobs", async () => {
  const s = job("/bin/sh", ["-c", "sleep 1; echo done"]);
  const running = via(launcher, s);
  await running.started;
  for (const pid of launchersOf(process.pid)) process.kill(pid, "SIGTERM");
  const o = await running.done;
  assert.equal(o.exitCode, 0);
  assert.equal(readFileSync(s.stdout, "utf8"), "done\n");
});

test("a launcher killed mid-job: the job is killed and handed back, the next starts anew", async () => {
  const warnings: string[] = [];
  const log = pino({ level: "warn" }, { write: (l: string) => void warnings.push(l) });
  const launchersBefore = new Set(launchersOf(process.pid));
  const own = createProcessLauncher({ log });
  try {
    assert.equal(await own.ready(), true);
    const s = job("/bin/sh", ["-c", "sleep 300 & echo $! > gc; wait"]);
    const running = via(own, s);
    const pid = await running.started;
    assert.ok(pid);
    const grandchild = await eventually("the grandchild", () => readPid(join(s.sandboxDir, "gc")));
    const before = launchersOf(process.pid);
    const killed = before.find((p) => !launchersBefore.has(p));
    assert.ok(killed, "the test's own launcher is found");
    process.kill(killed, "SIGKILL");
    const o = await running.done;
    assert.equal(o.killed?.kind, "pilot-stop", "handed back to the queue");
    assert.equal(o.startError, undefined, "not a start failure: no hold");
    await eventually("the job gone", () => !alive(pid));
    await eventually("the grandchild gone", () => !alive(grandchild));
    assert.ok(warnings.some((w) => w.includes("job launcher died")));
    const next = await via(own, job("/bin/sh", ["-c", "exit 5"])).done;
    assert.equal(next.exitCode, 5);
    assert.ok(
      launchersOf(process.pid).some((p) => p !== killed && !launchersBefore.has(p)),
      "a new launcher took over",
    );
  } finally {
    await own.close();
  }
});

test("a launcher that cannot start leaves the jobs to the pilot, with a log line", async () => {
  const warnings: string[] = [];
  const log = pino({ level: "warn" }, { write: (l: string) => void warnings.push(l) });
  const broken = createProcessLauncher({ log, command: [join(root, "no-such-node")] });
  try {
    const o = await via(broken, job("/bin/sh", ["-c", "exit 4"])).done;
    assert.equal(o.exitCode, 4);
    assert.equal(await broken.ready(), false);
    const later = await via(broken, job("/bin/sh", ["-c", "exit 5"])).done;
    assert.equal(later.exitCode, 5);
    assert.ok(
      warnings.some((w) => w.includes("jobs start in the pilot itself")),
      warnings.join(),
    );
  } finally {
    await broken.close();
  }
});

test("a pilot killed with SIGKILL takes its launcher and its jobs with it", async () => {
  const dir = mkdtempSync(join(root, "pilot-"));
  const launcherModule = fileURLToPath(
    new URL("../../src/pilot/runner/launcher.js", import.meta.url),
  );
  const runJobModule = fileURLToPath(new URL("../../src/pilot/runner/run-job.js", import.meta.url));
  const script = join(dir, "pilot.mjs");
  // A stand-in pilot: a launcher and one job that starts a grandchild, then it waits.
  writeFileSync(
    script,
    [
      `import { createProcessLauncher } from ${JSON.stringify(launcherModule)};`,
      `import { startJob } from ${JSON.stringify(runJobModule)};`,
      "const launcher = createProcessLauncher();",
      "if (!(await launcher.ready())) throw new Error('no launcher');",
      `const dir = ${JSON.stringify(dir)};`,
      "const job = startJob({ jobId: '1.0', sandboxDir: dir, executable: '/bin/sh',",
      "  args: ['-c', 'sleep 300 & echo $! > gc; wait'], env: {},",
      "  stdout: dir + '/out', stderr: dir + '/err' }, { launcher });",
      "console.log(await job.started);",
      "setInterval(() => {}, 1000);",
    ].join("\n"),
  );
  const pilot = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  pilot.stdout.on("data", (d) => (out += d));
  const jobPid = await eventually("the job's pid", () => Number(out.trim()) || undefined);
  const grandchild = await eventually("the grandchild", () => readPid(join(dir, "gc")));
  const [launcherPid] = await eventually("the launcher", () => {
    const l = launchersOf(pilot.pid!);
    return l.length > 0 ? l : undefined;
  });
  pilot.kill("SIGKILL");
  await eventually("the launcher gone", () => !alive(launcherPid!));
  await eventually("the job gone", () => !alive(jobPid));
  await eventually("the grandchild gone", () => !alive(grandchild));
});

test("a launcher that answers garbage is ended and the pilot starts the jobs itself", async () => {
  const warnings: string[] = [];
  const log = pino({ level: "warn" }, { write: (l: string) => void warnings.push(l) });
  // Its first four bytes read as a length far over the bound.
  const liar = createProcessLauncher({ log, command: ["/bin/sh", "-c", "printf zzzz; sleep 60"] });
  try {
    assert.equal(await liar.ready(), false);
    const o = await via(liar, job("/bin/sh", ["-c", "exit 6"])).done;
    assert.equal(o.exitCode, 6);
    assert.ok(
      warnings.some((w) => w.includes("answer cannot be read")),
      warnings.join(),
    );
    assert.ok(warnings.some((w) => w.includes("jobs start in the pilot itself")));
  } finally {
    await liar.close();
  }
});

test("a launcher sent garbage kills the jobs it started and exits", async () => {
  const s = job("/bin/sh", ["-c", "sleep 300 & echo $! > gc; wait"]);
  const child = spawn(process.execPath, [LAUNCHER_SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
  let answers = Buffer.alloc(0);
  child.stdout.on("data", (d: Buffer) => (answers = Buffer.concat([answers, d])));
  const req: LaunchRequest = {
    command: s.executable,
    args: s.args,
    cwd: s.sandboxDir,
    env: {},
    stdout: s.stdout,
    stderr: s.stderr,
    dirs: [],
  };
  child.stdin.write(encodeFrame({ t: "start", id: 1, req }));
  const grandchild = await eventually("the grandchild", () => readPid(join(s.sandboxDir, "gc")));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.stdin.write(encodeFrame({ t: "signal", id: 1, sig: "SIGCONT" } as never));
  assert.equal(await exited, 2);
  await eventually("the job's group gone", () => !alive(grandchild));
  const d = new FrameDecoder(MAX_ANSWER_BYTES).push(answers);
  assert.ok(d.ok);
  assert.deepEqual(
    d.messages.map((m) => (m as { t: string }).t),
    ["ready", "started"],
  );
});

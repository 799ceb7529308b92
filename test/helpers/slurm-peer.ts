/**
 * A real single-node Slurm 22.05 (munged + slurmctld + slurmd) for tests and benchmarks: free
 * loopback ports, every file in a `mktemp -d` folder, stopped by PID. Needs root and the Debian
 * packages `slurm-wlm munge` (CI installs them); without them it fails with a message saying so.
 */
import { freePort } from "../../src/pool/ports.js";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export interface SlurmPeer {
  dir: string;
  conf: string;
  /** The jobcomp/filetxt file. */
  jobcomp: string;
  /** Environment for Slurm client commands (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  /** Run a Slurm client command and return its stdout. */
  cmd(name: string, args: string[]): string;
  stop(): Promise<void>;
}

export interface SlurmPeerOptions {
  /** Seconds a finished job stays in squeue (Slurm's MinJobAge). */
  minJobAge?: number;
  cpus?: number;
  memoryMb?: number;
}

const BINARIES = [
  "/usr/sbin/munged",
  "/usr/sbin/slurmctld",
  "/usr/sbin/slurmd",
  "/usr/bin/sbatch",
  "/usr/bin/squeue",
];

function requirePeer(): { uid: number; gid: number } {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) {
    throw new Error(
      `the Slurm test peer needs the Debian packages 'slurm-wlm munge' (missing ${missing.join(", ")}); ` +
        "CI installs them in .ci/run",
    );
  }
  if (process.getuid?.() !== 0)
    throw new Error("the Slurm test peer runs slurmd as root; run the tests as root");
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("munge:"));
  if (!line) throw new Error("the Slurm test peer needs the 'munge' user (package munge)");
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

async function waitFor(
  what: string,
  ms: number,
  ok: () => boolean,
  log: () => string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`Slurm test peer: ${what} within ${ms} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => p.once("exit", () => r()));
}

export async function startSlurm(opts: SlurmPeerOptions = {}): Promise<SlurmPeer> {
  const munge = requirePeer();
  const dir = mkdtempSync(join(tmpdir(), "updraft-slurm-peer-"));
  // munged (user munge) must reach its socket below this folder.
  chmodSync(dir, 0o711);
  const mdir = join(dir, "munge");
  mkdirSync(join(mdir, "run"), { recursive: true });
  writeFileSync(join(mdir, "munge.key"), randomBytes(1024), { mode: 0o400 });
  for (const p of [mdir, join(mdir, "run"), join(mdir, "munge.key")])
    chownSync(p, munge.uid, munge.gid);
  chmodSync(mdir, 0o711);
  const socket = join(mdir, "run", "munge.socket.2");
  execFileSync("runuser", [
    "-u",
    "munge",
    "--",
    "/usr/sbin/munged",
    `--key-file=${join(mdir, "munge.key")}`,
    `--socket=${socket}`,
    `--pid-file=${join(mdir, "munged.pid")}`,
    `--log-file=${join(mdir, "munged.log")}`,
    `--seed-file=${join(mdir, "munged.seed")}`,
  ]);
  const mungePid = Number(readFileSync(join(mdir, "munged.pid"), "utf8").trim());

  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  for (const d of ["state", "spool"]) mkdirSync(join(dir, d));
  const conf = join(dir, "slurm.conf");
  const jobcomp = join(dir, "jobcomp.txt");
  writeFileSync(
    conf,
    [
      `ClusterName=updraft${ctldPort}`,
      "SlurmctldHost=localhost(127.0.0.1)",
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${socket}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "MpiDefault=none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "JobCompType=jobcomp/filetxt",
      `JobCompLoc=${jobcomp}`,
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core_Memory",
      `MinJobAge=${opts.minJobAge ?? 300}`,
      "ReturnToService=2",
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "slurmd.log")}`,
      `NodeName=localnode NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=${opts.cpus ?? 2} RealMemory=${opts.memoryMb ?? 2000}`,
      "PartitionName=debug Nodes=localnode Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const daemon = (bin: string, args: string[], log: string): ChildProcess =>
    spawn(bin, args, { env, stdio: ["ignore", "ignore", "ignore"], detached: true }).once(
      "error",
      (e) => writeFileSync(join(dir, log), String(e), { flag: "a" }),
    );
  const ctld = daemon("/usr/sbin/slurmctld", ["-D", "-i"], "slurmctld.err");
  const slurmd = daemon("/usr/sbin/slurmd", ["-D", "-N", "localnode"], "slurmd.err");
  // A test whose cleanup failed must still end (the exit hook below then stops them).
  ctld.unref();
  slurmd.unref();
  const cmd = (name: string, args: string[]): string =>
    execFileSync(name, args, { env, encoding: "utf8" });
  const logs = (): string =>
    ["slurmctld.log", "slurmd.log"]
      .map((f) => {
        try {
          return `--- ${f}\n${readFileSync(join(dir, f), "utf8").split("\n").slice(-15).join("\n")}`;
        } catch {
          return `--- ${f} (none)`;
        }
      })
      .join("\n");

  // A test process that dies without running its hooks still takes the daemons with it.
  const onExit = (): void => {
    for (const pid of [slurmd.pid, ctld.pid, mungePid]) {
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  };
  process.once("exit", onExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    try {
      // Jobs first, so no slurmstepd outlives the daemons.
      cmd("scancel", ["--full", `--partition=debug`]);
      await waitFor(
        "jobs ended",
        10_000,
        () => cmd("squeue", ["-h", "-t", "R,CG,CF"]).trim() === "",
        () => "",
      );
    } catch {
      // The daemons may be down already.
    }
    for (const p of [slurmd, ctld]) {
      // Referenced again: waiting for their exit must keep this process alive.
      p.ref();
      if (p.pid) process.kill(p.pid, "SIGTERM");
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([exited(slurmd), exited(ctld)]),
      new Promise((r) => (timer = setTimeout(r, 10_000))),
    ]);
    clearTimeout(timer);
    for (const p of [slurmd, ctld])
      if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(p.pid, "SIGKILL");
    const mungeAlive = (): boolean => {
      try {
        process.kill(mungePid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (mungeAlive()) process.kill(mungePid, "SIGTERM");
    await waitFor(
      "munged did not stop",
      10_000,
      () => !mungeAlive(),
      () => "",
    ).catch(() => process.kill(mungePid, "SIGKILL"));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      "the node did not come up idle",
      20_000,
      () => {
        try {
          return cmd("sinfo", ["-h", "-o", "%T"]).trim() === "idle";
        } catch {
          return false;
        }
      },
      logs,
    );
    // The first job after start waits for the controller's first scheduling pass; pay it here.
    const id = cmd("sbatch", [
      "--parsable",
      "--mem=10",
      "-o",
      "/dev/null",
      "--wrap",
      "true",
    ]).trim();
    await waitFor(
      "the warm-up job did not finish",
      20_000,
      () => /COMPLETED/.test(cmd("squeue", ["-h", "-t", "all", "-j", id, "-o", "%T"])),
      logs,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, conf, jobcomp, env, cmd, stop };
}

/**
 * STAND-IN for the squeue of Slurm before 21.08, which cannot run here: writes `<bin>/squeue`, a
 * wrapper that refuses `--json` the way an old squeue does and runs the real squeue otherwise,
 * logging each call's arguments. Returns the log file.
 */
export function writeSqueueWithoutJson(bin: string): string {
  const calls = join(bin, "squeue.log");
  writeFileSync(
    join(bin, "squeue"),
    [
      "#!/bin/sh",
      `echo "$*" >> ${calls}`,
      'for a in "$@"; do',
      `  if [ "$a" = "--json" ]; then echo "squeue: unrecognized option '--json'" >&2; exit 1; fi`,
      "done",
      'exec /usr/bin/squeue "$@"',
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "squeue"), 0o755);
  return calls;
}

/**
 * CPU accounting of a process tree from /proc, for benchmarks that report CPU per unit of work
 * (wall time means little on a shared machine). Each process is read as utime + stime (its own)
 * and cutime + cstime (its reaped children: a pilot's jobs, for instance). Processes are sampled
 * while they run, because a process that exits takes its figures with it: the last sample of a
 * process that ended is what it is credited with (at most one sampling interval is lost).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Clock ticks per second of /proc's times (USER_HZ, 100 on every Linux build that matters). */
const TICKS_PER_S = 100;

export interface ProcTimes {
  pid: number;
  ppid: number;
  /** The command line, arguments joined by spaces. */
  cmdline: string;
  /** utime + stime, in milliseconds. */
  selfMs: number;
  /** cutime + cstime (children reaped so far), in milliseconds. */
  childrenMs: number;
}

/** One process's times, or undefined when it has gone (or is not readable). */
export function readProcTimes(pid: number): ProcTimes | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (i: number) => (Number(f[i]) * 1000) / TICKS_PER_S;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    return {
      pid,
      ppid: Number(f[1]),
      cmdline,
      selfMs: ms(11) + ms(12),
      childrenMs: ms(13) + ms(14),
    };
  } catch {
    return undefined;
  }
}

/** The live processes whose parent is `parent`. */
export function children(parent: number): ProcTimes[] {
  const out: ProcTimes[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProcTimes(Number(name));
    if (p?.ppid === parent) out.push(p);
  }
  return out;
}

/** Every live process below `root` (not `root` itself). */
export function descendants(root: number): ProcTimes[] {
  const all: ProcTimes[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProcTimes(Number(name));
    if (p) all.push(p);
  }
  const byParent = new Map<number, ProcTimes[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcTimes[] = [];
  const walk = (pid: number) => {
    for (const c of byParent.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

/** What a role's processes spent over a window: their own CPU and their reaped children's. */
export interface RoleCpu {
  selfMs: number;
  childrenMs: number;
  processes: number;
}

/**
 * Samples a process tree and sums, per role, what each process spent between `start()` and
 * `stop()`. `roleOf` names a process's role, or undefined to leave it out (its CPU then reaches
 * the figures only through the `childrenMs` of a counted parent, once reaped). A process seen
 * first after `start()` is counted from zero (its start-up is part of the work).
 */
export class TreeCpuMeter {
  private readonly first = new Map<number, ProcTimes>();
  private readonly last = new Map<number, ProcTimes & { role: string }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly root: number,
    private readonly roleOf: (p: ProcTimes) => string | undefined,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    for (const p of descendants(this.root)) {
      const role = this.roleOf(p);
      if (role === undefined) continue;
      this.first.set(p.pid, p);
      this.last.set(p.pid, { ...p, role });
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** The figures per role. `reapedBy` moves, for a role whose processes a counted parent reaps
   * in the window, their totals out of that parent's childrenMs (or they would count twice). */
  stop(reapedBy: Record<string, string> = {}): Map<string, RoleCpu> {
    clearInterval(this.timer);
    const live = new Set(this.sample());
    const roles = new Map<string, RoleCpu>();
    for (const [pid, p] of this.last) {
      const r = roles.get(p.role) ?? { selfMs: 0, childrenMs: 0, processes: 0 };
      const f = this.first.get(pid);
      r.selfMs += p.selfMs - (f?.selfMs ?? 0);
      r.childrenMs += p.childrenMs - (f?.childrenMs ?? 0);
      r.processes++;
      roles.set(p.role, r);
    }
    for (const [pid, p] of this.last) {
      const parentRole = reapedBy[p.role];
      if (live.has(pid) || !parentRole) continue;
      const parent = roles.get(parentRole);
      if (parent) parent.childrenMs -= p.selfMs + p.childrenMs;
    }
    return roles;
  }

  /** Reads the tree once; returns the pids alive now. */
  private sample(): number[] {
    const pids: number[] = [];
    for (const p of descendants(this.root)) {
      const role = this.roleOf(p);
      if (role === undefined) continue;
      pids.push(p.pid);
      this.last.set(p.pid, { ...p, role });
    }
    return pids;
  }
}

/**
 * Live processes working under `dir` (their current directory there): a pool's pilots and their
 * jobs run in folders of its state directory, whoever their parent is once the factory is gone.
 */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${name}/cwd`);
    } catch {
      continue;
    }
    if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(name));
  }
  return pids;
}

/**
 * Resource use of a job's process tree, read from /proc. The job runs in its own process group
 * (spawned detached), so its tree is every process whose group is the leader's pid; a job that
 * leaves its group escapes the accounting, as it would escape HTCondor's without cgroups.
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";

/**
 * One buffer for every stat file read: readFileSync cannot size a /proc file (it reports 0 bytes)
 * and allocates 64 KiB per call, which in a walk over every process was most of the walk's cost.
 * A stat line is a few hundred bytes.
 */
const statBuffer = Buffer.allocUnsafe(4096);

/** The text of a /proc stat file; throws if it has gone. */
function readStat(path: string): string {
  const fd = openSync(path, "r");
  try {
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return statBuffer.toString("latin1", 0, n);
  } finally {
    closeSync(fd);
  }
}

export interface TreeSample {
  pids: number[];
  rssBytes: number;
  /** Seconds, including reaped children (cutime/cstime). */
  userS: number;
  sysS: number;
}

const PAGE = 4096;
const TICKS = 100;

interface StatFields {
  pid: number;
  pgrp: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  rssPages: number;
}

function parseStat(text: string): StatFields | undefined {
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(" ")));
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state); field n is f[n - 3].
  return {
    pid,
    pgrp: Number(f[2]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    cutime: Number(f[13]),
    cstime: Number(f[14]),
    rssPages: Number(f[21]),
  };
}

/**
 * One process alone (the group's leader, say): a single read of its stat file instead of a walk
 * over every process on the node. Empty when the process has gone.
 */
export function sampleProcess(pid: number, procDir = "/proc"): TreeSample {
  let st: StatFields | undefined;
  try {
    st = parseStat(readStat(join(procDir, String(pid), "stat")));
  } catch {
    return { pids: [], rssBytes: 0, userS: 0, sysS: 0 };
  }
  if (!st) return { pids: [], rssBytes: 0, userS: 0, sysS: 0 };
  return {
    pids: [st.pid],
    rssBytes: st.rssPages * PAGE,
    userS: (st.utime + st.cutime) / TICKS,
    sysS: (st.stime + st.cstime) / TICKS,
  };
}

export function sampleProcessGroup(pgid: number, procDir = "/proc"): TreeSample {
  const sample: TreeSample = { pids: [], rssBytes: 0, userS: 0, sysS: 0 };
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return sample;
  }
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue;
    let st: StatFields | undefined;
    try {
      st = parseStat(readStat(join(procDir, e, "stat")));
    } catch {
      continue; // exited between readdir and read
    }
    if (!st || st.pgrp !== pgid) continue;
    sample.pids.push(st.pid);
    sample.rssBytes += st.rssPages * PAGE;
    sample.userS += (st.utime + st.cutime) / TICKS;
    sample.sysS += (st.stime + st.cstime) / TICKS;
  }
  return sample;
}

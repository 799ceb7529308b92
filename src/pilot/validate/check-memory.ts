/**
 * Memory the pilot may use, MB: the entry's GLIDEIN_MaxMemMBs (what the factory asked the site
 * for), then Slurm's allocation, then the cgroup limit, else the node; never more than the node.
 */
import { join } from "node:path";
import { NODE } from "../../ads/names.js";
import { fail, pass, type CheckResult } from "../failure.js";
import type { NodeView } from "./node-view.js";
import type { ValidationSettings } from "./settings.js";

const MB = 1048576;

/** Slurm memory values are MB, optionally with a unit suffix. */
function slurmMb(v: string | undefined): number | undefined {
  const m = v?.trim().match(/^(\d+)([KMGT]?)$/i);
  if (!m) return undefined;
  const scale: Record<string, number> = { K: 1 / 1024, "": 1, M: 1, G: 1024, T: 1024 * 1024 };
  const n = Number(m[1]) * scale[m[2]!.toUpperCase()]!;
  return n > 0 ? Math.floor(n) : undefined;
}

function cgroupMemoryMb(view: NodeView): number | undefined {
  const dir = view.paths.cgroupDir;
  if (!dir) return undefined;
  const v2 = view.readFile(join(dir, "memory.max"))?.trim();
  if (v2 && /^\d+$/.test(v2)) return Math.floor(Number(v2) / MB);
  const v1 = view.readFile(join(dir, "memory", "memory.limit_in_bytes"))?.trim();
  // v1 reports "no limit" as a huge page-rounded number; anything above 2^60 is no limit.
  if (v1 && /^\d+$/.test(v1) && Number(v1) < 2 ** 60) return Math.floor(Number(v1) / MB);
  return undefined;
}

function nodeMemoryMb(view: NodeView): number | undefined {
  const m = view.readFile(join(view.paths.procDir, "meminfo"))?.match(/^MemTotal:\s+(\d+)\s+kB/m);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

export function checkMemory(view: NodeView, s: ValidationSettings, cpus?: number): CheckResult {
  const perCpu = slurmMb(view.env.SLURM_MEM_PER_CPU);
  const sources: [string, number | undefined][] = [
    ["GLIDEIN_MaxMemMBs", slurmMb(view.env.GLIDEIN_MaxMemMBs)],
    ["SLURM_MEM_PER_NODE", slurmMb(view.env.SLURM_MEM_PER_NODE)],
    ["SLURM_MEM_PER_CPU", perCpu !== undefined && cpus ? perCpu * cpus : undefined],
    ["cgroup", cgroupMemoryMb(view)],
    ["node", nodeMemoryMb(view)],
  ];
  const found = sources.find(([, n]) => n !== undefined);
  if (!found) return fail("WN_Resource", "cannot determine available memory");
  const nodeMb = nodeMemoryMb(view);
  const mb = nodeMb !== undefined ? Math.min(found[1]!, nodeMb) : found[1]!;
  if (s.minMemoryMb !== undefined && mb < s.minMemoryMb) {
    return fail(
      "WN_Resource",
      `${mb} MB of memory (${found[0]}), at least ${s.minMemoryMb} needed`,
    );
  }
  return pass({ [NODE.DetectedMemory]: mb, [NODE.MemorySource]: found[0] });
}

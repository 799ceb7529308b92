/**
 * CPUs the pilot may use: the entry's GLIDEIN_CPUS when it is a number (what the factory asked
 * the site for), then the batch system's allocation (what the site granted), then the cgroup
 * quota (containers, systemd slices), else the whole node. GLIDEIN_CPUS=node skips straight to
 * the node; `auto` or `slot` (or nothing) detects, as in glideinWMS.
 */
import { join } from "node:path";
import { fail, pass, type CheckResult } from "../failure.js";
import type { NodeView } from "./node-view.js";
import { GLIDE_FACTORY, NODE } from "../../ads/names.js";

const positiveInt = (v: string | undefined): number | undefined => {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
};

/** cgroup v2 `cpu.max` ("quota period" or "max period"), else v1 cfs quota/period. */
export function cgroupCpuLimit(view: NodeView): number | undefined {
  const dir = view.paths.cgroupDir;
  if (!dir) return undefined;
  const v2 = view.readFile(join(dir, "cpu.max"))?.trim().split(/\s+/);
  if (v2 && v2[0] !== "max") {
    const q = Number(v2[0]);
    const p = Number(v2[1] ?? 100000);
    if (q > 0 && p > 0) return Math.max(1, Math.ceil(q / p));
  }
  const q1 = Number(view.readFile(join(dir, "cpu", "cpu.cfs_quota_us"))?.trim());
  const p1 = Number(view.readFile(join(dir, "cpu", "cpu.cfs_period_us"))?.trim());
  if (q1 > 0 && p1 > 0) return Math.max(1, Math.ceil(q1 / p1));
  return undefined;
}

export function checkCpus(view: NodeView): CheckResult {
  const wanted = view.env.GLIDEIN_CPUS?.trim().toLowerCase();
  if (wanted && !/^(\d+|auto|slot|node)$/.test(wanted)) {
    return fail("Config", `GLIDEIN_CPUS=${wanted} is not a number, auto, slot or node`);
  }
  const node = wanted === "node";
  const sources: [string, number | undefined][] = [
    [GLIDE_FACTORY.GlideinCpus, positiveInt(wanted)],
    ["SLURM_CPUS_ON_NODE", positiveInt(view.env.SLURM_CPUS_ON_NODE)],
    ["OMP_NUM_THREADS", positiveInt(view.env.OMP_NUM_THREADS)],
    ["cgroup", cgroupCpuLimit(view)],
    ["node", view.nodeCpus > 0 ? view.nodeCpus : undefined],
  ];
  const found = sources.find(([name, n]) => n !== undefined && (!node || name === "node"));
  if (!found) return fail("WN_Resource", "cannot determine the number of CPUs");
  // An allocation larger than the node is a site misconfiguration; never claim more than exists.
  const cpus = Math.min(found[1]!, view.nodeCpus > 0 ? view.nodeCpus : found[1]!);
  return pass({ [NODE.DetectedCpus]: cpus, [NODE.CpusSource]: found[0] });
}

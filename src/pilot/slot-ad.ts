/**
 * The pilot's `Slot` ad, pure: validated node attributes, the entry's published attributes, the
 * lifetime times and what the resource ledger has left, named as HTCondor's partitionable slot and
 * glideinWMS's glidein name them so existing job requirements match unchanged.
 */
import { writeSlot } from "../ads/index.js";
import type { ClassAd } from "../classad/index.js";
import type { Attrs } from "./failure.js";
import type { Resources } from "./ledger.js";
import type { LifetimePlan } from "./lifetime.js";

export interface SlotIdentity {
  pilotId: string;
  host: string;
}

export interface SlotAdInput {
  id: SlotIdentity;
  /** From validation: OpSys, Arch, CUDACapability, HAS_CVMFS_*, validation scripts' attrs... */
  nodeAttrs: Attrs;
  /** The entry's and frontend's published attributes (GLIDEIN_Site, GLIDEIN_Entry_Name...). */
  published: Attrs;
  /** The VO's published expressions (type expr), under everything else. */
  publishedExprs?: Readonly<Record<string, string>>;
  total: Resources;
  remaining: Resources;
  /** The frontend's START expression, as ClassAd text; `true` when absent. */
  start?: string;
  plan: LifetimePlan;
  retired: boolean;
  /**
   * With black-hole detection on: false, or why the node was judged one (it then takes no jobs).
   * Undefined when detection is off.
   */
  blackHole?: string | false;
  runningJobs: number;
  nowMs: number;
}

const secs = (ms: number) => Math.floor(ms / 1000);

export function slotName(id: SlotIdentity): string {
  return `slot1@${id.pilotId}@${id.host}`;
}

export function buildSlotAd(input: SlotAdInput): ClassAd {
  const { total, remaining, plan } = input;
  const busy = input.runningJobs > 0;
  return writeSlot(
    {
      name: slotName(input.id),
      machine: input.id.host,
      pilotId: input.id.pilotId,
      cpus: remaining.cpus,
      memoryMb: remaining.memoryMb,
      diskKb: remaining.diskKb,
      gpus: remaining.gpus,
      totalCpus: total.cpus,
      totalMemoryMb: total.memoryMb,
      totalDiskKb: total.diskKb,
      totalGpus: total.gpus,
      numDynamicSlots: input.runningJobs,
      state: input.retired ? "Drained" : busy ? "Claimed" : "Unclaimed",
      activity: input.retired ? "Retiring" : busy ? "Busy" : "Idle",
      toRetireS: secs(plan.retireAtMs),
      toDieS: secs(plan.dieAtMs),
      daemonStartTimeS: secs(plan.startMs),
      myCurrentTimeS: secs(input.nowMs),
      timeToLiveS: Math.max(0, secs(plan.dieAtMs - input.nowMs)),
      // A retired pilot must not be matched even by a schedd working from a stale ad's START.
      start: input.retired ? "false" : (input.start ?? "true"),
      blackHole: input.blackHole,
    },
    // Published, then node attributes: the slot's own accounting is written over both.
    { ...input.published, ...input.nodeAttrs },
    input.publishedExprs,
  );
}

/**
 * The pilot's `Slot` ad, pure: validated node attributes, the entry's published attributes, the
 * lifetime times and what the resource ledger has left, named as HTCondor's partitionable slot and
 * glideinWMS's glidein name them so existing job requirements match unchanged.
 */
import { ClassAd, parseExpression } from "../classad/index.js";
import type { AttrValue, Attrs } from "./failure.js";
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

function setAttr(ad: ClassAd, name: string, v: AttrValue): void {
  ad.set(name, typeof v === "string" ? JSON.stringify(v) : String(v));
}

export function slotName(id: SlotIdentity): string {
  return `slot1@${id.pilotId}@${id.host}`;
}

export function buildSlotAd(input: SlotAdInput): ClassAd {
  const ad = new ClassAd();
  // Published and node attributes first, so the slot's own accounting below always wins.
  for (const [k, v] of Object.entries(input.published)) setAttr(ad, k, v);
  for (const [k, v] of Object.entries(input.nodeAttrs)) setAttr(ad, k, v);
  const { total, remaining } = input;
  const fields: Attrs = {
    MyType: "Slot",
    Name: slotName(input.id),
    Machine: input.id.host,
    GLIDEIN_PILOT_ID: input.id.pilotId,
    SlotType: "Partitionable",
    PartitionableSlot: true,
    Cpus: remaining.cpus,
    Memory: remaining.memoryMb,
    Disk: remaining.diskKb,
    GPUs: remaining.gpus,
    TotalCpus: total.cpus,
    TotalMemory: total.memoryMb,
    TotalDisk: total.diskKb,
    TotalGPUs: total.gpus,
    TotalSlotCpus: total.cpus,
    TotalSlotMemory: total.memoryMb,
    TotalSlotDisk: total.diskKb,
    TotalSlotGPUs: total.gpus,
    NumDynamicSlots: input.runningJobs,
    State: input.retired ? "Drained" : input.runningJobs > 0 ? "Claimed" : "Unclaimed",
    Activity: input.retired ? "Retiring" : input.runningJobs > 0 ? "Busy" : "Idle",
    GLIDEIN_ToRetire: secs(input.plan.retireAtMs),
    GLIDEIN_ToDie: secs(input.plan.dieAtMs),
    DaemonStartTime: secs(input.plan.startMs),
    MyCurrentTime: secs(input.nowMs),
    TimeToLive: Math.max(0, secs(input.plan.dieAtMs - input.nowMs)),
  };
  for (const [k, v] of Object.entries(fields)) setAttr(ad, k, v);
  if (input.blackHole !== undefined) {
    setAttr(ad, "GLIDEIN_BLACKHOLE", input.blackHole !== false);
    if (input.blackHole) setAttr(ad, "GLIDEIN_BLACKHOLE_REASON", input.blackHole);
  }
  // A retired pilot must not be matched even by a schedd working from a stale ad's START.
  ad.set("START", input.retired ? "false" : parseExpression(input.start ?? "true"));
  ad.set("Requirements", "START");
  return ad;
}

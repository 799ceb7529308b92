/**
 * The pilot's `Slot` ads, pure: validated node attributes, the entry's published attributes, the
 * lifetime times and what the resource ledger has left, named as HTCondor's partitionable slot and
 * glideinWMS's glidein name them so existing job requirements match unchanged; and one dynamic
 * slot per running job (`slot1_N`), as HTCondor's startd carves them out of a partitionable slot.
 */
import {
  type DynamicSlot,
  dynamicSlotName,
  type SlotAd,
  writeDynamicSlot,
  writeSlot,
} from "../ads/index.js";
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
  /** The running jobs, each shown as a dynamic slot. */
  jobs: readonly SlotJob[];
  /** On a GPU pilot, the devices no job holds (the partitionable slot's `AssignedGPUs`). */
  freeGpuNames?: readonly string[];
  nowMs: number;
}

/** A running job as its dynamic slot shows it. */
export interface SlotJob {
  /** N of `slot1_N`: the job's claim number in this pilot, never reused. */
  n: number;
  jobId: string;
  owner: string;
  resources: Resources;
  /** GPU names the job holds (`CUDA0`...). */
  gpuNames?: readonly string[];
  claimedMs: number;
}

const secs = (ms: number) => Math.floor(ms / 1000);

export function slotName(id: SlotIdentity): string {
  return `slot1@${id.pilotId}@${id.host}`;
}

export function dynamicSlotAdName(id: SlotIdentity, n: number): string {
  return dynamicSlotName(slotName(id), n);
}

function dynamicSlot(id: SlotIdentity, j: SlotJob): DynamicSlot {
  return {
    name: dynamicSlotAdName(id, j.n),
    jobId: j.jobId,
    remoteOwner: j.owner,
    cpus: j.resources.cpus,
    memoryMb: j.resources.memoryMb,
    diskKb: j.resources.diskKb,
    gpus: j.resources.gpus,
    ...(j.gpuNames && j.gpuNames.length > 0 ? { assignedGpus: j.gpuNames.join(",") } : {}),
    enteredS: secs(j.claimedMs),
  };
}

/**
 * The partitionable slot as HTCondor's startd shows one: what is left to hand out, `Unclaimed`
 * and `Idle` whatever its children do (each running job is a `Claimed`/`Busy` dynamic slot of
 * its own, so counting slots by state counts every job once), `Drained`/`Retiring` once retired.
 */
function partitionable(input: SlotAdInput): SlotAd {
  const { total, remaining, plan } = input;
  return {
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
    numDynamicSlots: input.jobs.length,
    state: input.retired ? "Drained" : "Unclaimed",
    activity: input.retired ? "Retiring" : "Idle",
    toRetireS: secs(plan.retireAtMs),
    toDieS: secs(plan.dieAtMs),
    daemonStartTimeS: secs(plan.startMs),
    myCurrentTimeS: secs(input.nowMs),
    timeToLiveS: Math.max(0, secs(plan.dieAtMs - input.nowMs)),
    // A retired pilot must not be matched even by a schedd working from a stale ad's START.
    start: input.retired ? "false" : (input.start ?? "true"),
    blackHole: input.blackHole,
    children: input.jobs.map((j) => dynamicSlot(input.id, j)),
    ...(input.freeGpuNames ? { assignedGpus: input.freeGpuNames.join(",") } : {}),
  };
}

// Published, then node attributes: the slot's own accounting is written over both.
const publishedOf = (input: SlotAdInput) => ({ ...input.published, ...input.nodeAttrs });

export function buildSlotAd(input: SlotAdInput): ClassAd {
  return writeSlot(partitionable(input), publishedOf(input), input.publishedExprs);
}

/** One dynamic slot ad per running job, in the order of `input.jobs`. */
export function buildDynamicSlotAds(input: SlotAdInput): ClassAd[] {
  const parent = partitionable(input);
  const published = publishedOf(input);
  return parent.children!.map((d) => writeDynamicSlot(parent, d, published, input.publishedExprs));
}

/**
 * Slot: a pilot's partitionable slot, and one dynamic slot per running job as HTCondor's startd
 * splits a partitionable one (`slot1_N`). The writer sets the pilot's accounting and times over
 * the attributes it publishes (node facts, the entry's and frontend's attributes), so a published
 * attribute can never pass for the slot's own; the reader gives what frontends count.
 */
import { ClassAd, parseExpression, unparseValue } from "../classad/index.js";
import { AD_TYPE, COMMON, SLOT as A } from "./names.js";

export type PlainValue = string | number | boolean;

export interface SlotAd {
  name: string;
  machine: string;
  pilotId: string;
  /** What is left to hand out. */
  cpus: number;
  memoryMb: number;
  diskKb: number;
  gpus: number;
  /** What the pilot started with. */
  totalCpus: number;
  totalMemoryMb: number;
  totalDiskKb: number;
  totalGpus: number;
  numDynamicSlots: number;
  state: string;
  activity: string;
  /** Epoch seconds. */
  toRetireS: number;
  toDieS: number;
  daemonStartTimeS: number;
  myCurrentTimeS: number;
  timeToLiveS: number;
  /** START as ClassAd text; `Requirements` is always `START`. */
  start: string;
  /**
   * With black-hole detection on: false, or why the node was judged one. Undefined (no
   * attribute) when detection is off.
   */
  blackHole?: string | false;
  /** Set on the ad of a pilot that failed validation and lingers (see pilot/failure-linger.ts). */
  failure?: { exitCode: number; failureClass: string; reason: string };
  /** The running jobs' dynamic slots, rolled up as HTCondor's `Child*` lists. */
  children?: readonly DynamicSlot[];
  /** On a GPU pilot, the devices no job holds (`CUDA1,CUDA3`; empty when all are held). */
  assignedGpus?: string;
}

/** One running job's share of the partitionable slot. */
export interface DynamicSlot {
  /** `slot1_N@<pilot>`. */
  name: string;
  /** "cluster.proc". */
  jobId: string;
  /** The job's owner, as the schedd names it. */
  remoteOwner: string;
  cpus: number;
  memoryMb: number;
  diskKb: number;
  gpus: number;
  /** The GPUs it holds (`CUDA0,CUDA1`); absent without GPUs. */
  assignedGpus?: string;
  /** When the job was claimed, epoch seconds. */
  enteredS: number;
}

/** Dynamic slot names: `slot1_N@...`, as HTCondor's startd names a partitionable slot's children. */
export function dynamicSlotName(parentName: string, n: number): string {
  const at = parentName.indexOf("@");
  const slot = at < 0 ? parentName : parentName.slice(0, at);
  return `${slot}_${n}${at < 0 ? "" : parentName.slice(at)}`;
}

/** The partitionable slot a dynamic slot was carved from (`slot1_3@x` -> `slot1@x`). */
export function parentSlotName(name: string): string {
  return name.replace(/^(slot\d+)_\d+(?=@|$)/i, "$1");
}

const list = (values: readonly (string | number)[]) =>
  `{ ${values.map((v) => (typeof v === "string" ? unparseValue(v) : String(v))).join(", ")} }`;

/** Written as its literal text: integers stay integers, other numbers are reals. */
function setPlain(ad: ClassAd, name: string, v: PlainValue): void {
  ad.set(name, typeof v === "string" ? JSON.stringify(v) : String(v));
}

/**
 * The Slot ad: `publishedExprs` (expression text, checked when it was received), `published`
 * (node and entry attributes), then the slot's own.
 */
export function writeSlot(
  r: SlotAd,
  published: Readonly<Record<string, PlainValue>> = {},
  publishedExprs: Readonly<Record<string, string>> = {},
): ClassAd {
  const ad = new ClassAd();
  for (const [k, v] of Object.entries(publishedExprs)) ad.set(k, parseExpression(v));
  for (const [k, v] of Object.entries(published)) setPlain(ad, k, v);
  const own: [string, PlainValue][] = [
    [COMMON.MyType, AD_TYPE.Slot],
    [COMMON.Name, r.name],
    [A.Machine, r.machine],
    [A.PilotId, r.pilotId],
    [A.SlotType, "Partitionable"],
    [A.PartitionableSlot, true],
    [A.Cpus, r.cpus],
    [A.Memory, r.memoryMb],
    [A.Disk, r.diskKb],
    [A.GPUs, r.gpus],
    [A.TotalCpus, r.totalCpus],
    [A.TotalMemory, r.totalMemoryMb],
    [A.TotalDisk, r.totalDiskKb],
    [A.TotalGPUs, r.totalGpus],
    [A.TotalSlotCpus, r.totalCpus],
    [A.TotalSlotMemory, r.totalMemoryMb],
    [A.TotalSlotDisk, r.totalDiskKb],
    [A.TotalSlotGPUs, r.totalGpus],
    [A.NumDynamicSlots, r.numDynamicSlots],
    [A.State, r.state],
    [A.Activity, r.activity],
    [A.ToRetire, r.toRetireS],
    [A.ToDie, r.toDieS],
    [A.DaemonStartTime, r.daemonStartTimeS],
    [A.MyCurrentTime, r.myCurrentTimeS],
    [A.TimeToLive, r.timeToLiveS],
  ];
  for (const [k, v] of own) setPlain(ad, k, v);
  if (r.blackHole !== undefined) {
    setPlain(ad, A.BlackHole, r.blackHole !== false);
    if (r.blackHole) setPlain(ad, A.BlackHoleReason, r.blackHole);
  }
  if (r.failure) {
    setPlain(ad, A.Failed, true);
    setPlain(ad, A.ExitCode, r.failure.exitCode);
    setPlain(ad, A.FailureClass, r.failure.failureClass);
    setPlain(ad, A.FailureReason, r.failure.reason);
  }
  if (r.assignedGpus !== undefined) {
    // Over the node's list published beneath: what is left, as HTCondor's partitionable slot.
    if (r.assignedGpus === "") ad.delete(A.AssignedGPUs);
    else setPlain(ad, A.AssignedGPUs, r.assignedGpus);
  }
  if (r.children) {
    const c = r.children;
    ad.set(A.ChildName, list(c.map((d) => d.name)));
    ad.set(A.ChildCpus, list(c.map((d) => d.cpus)));
    ad.set(A.ChildMemory, list(c.map((d) => d.memoryMb)));
    ad.set(A.ChildGPUs, list(c.map((d) => d.gpus)));
    ad.set(A.ChildRemoteOwner, list(c.map((d) => d.remoteOwner)));
    ad.set(A.ChildState, list(c.map(() => "Claimed")));
    ad.set(A.ChildActivity, list(c.map(() => "Busy")));
  }
  ad.set(A.Start, parseExpression(r.start));
  ad.set(A.Requirements, A.Start);
  return ad;
}

/**
 * A dynamic slot: the parent's published attributes and times, the job's share as its resources,
 * `Claimed`/`Busy` with the job named. It takes no jobs itself (the pilot claims with its
 * partitionable slot), so its START is false and a schedd never matches it.
 */
export function writeDynamicSlot(
  parent: SlotAd,
  d: DynamicSlot,
  published: Readonly<Record<string, PlainValue>> = {},
  publishedExprs: Readonly<Record<string, string>> = {},
): ClassAd {
  const ad = writeSlot(
    {
      ...parent,
      name: d.name,
      cpus: d.cpus,
      memoryMb: d.memoryMb,
      diskKb: d.diskKb,
      gpus: d.gpus,
      state: "Claimed",
      activity: "Busy",
      start: "false",
      failure: undefined,
      children: undefined,
      assignedGpus: d.assignedGpus ?? "",
    },
    published,
    publishedExprs,
  );
  ad.delete(A.NumDynamicSlots);
  const own: [string, PlainValue][] = [
    [A.SlotType, "Dynamic"],
    [A.PartitionableSlot, false],
    [A.DynamicSlot, true],
    [A.SlotID, 1],
    [A.JobId, d.jobId],
    [A.RemoteOwner, d.remoteOwner],
    [A.RemoteUser, d.remoteOwner],
    [A.EnteredCurrentActivity, d.enteredS],
    [A.TotalSlotCpus, d.cpus],
    [A.TotalSlotMemory, d.memoryMb],
    [A.TotalSlotDisk, d.diskKb],
    [A.TotalSlotGPUs, d.gpus],
  ];
  for (const [k, v] of own) setPlain(ad, k, v);
  return ad;
}

/** True for a dynamic slot's ad: a running job's share, not a pilot of its own. */
export function isDynamicSlot(ad: ClassAd): boolean {
  return ad.getBool(A.DynamicSlot) === true || ad.getString(A.SlotType) === "Dynamic";
}

/** Every field typed (undefined where absent or mistyped), and the pool's labels. */
export type ReadSlot = Partial<Omit<SlotAd, "start" | "blackHole" | "failure" | "children">> & {
  /** A running job's dynamic slot rather than a pilot's partitionable one. */
  dynamic: boolean;
  /** Whether the pilot judged its node a black hole; undefined when detection is off. */
  isBlackHole?: boolean;
  blackHoleReason?: string;
  entryName?: string;
  glideinName?: string;
  factory?: string;
  site?: string;
  clientName?: string;
  clientGroup?: string;
  authenticatedIdentity?: string;
};

export function readSlot(ad: ClassAd): ReadSlot {
  return {
    dynamic: isDynamicSlot(ad),
    name: ad.getString(COMMON.Name),
    machine: ad.getString(A.Machine),
    pilotId: ad.getString(A.PilotId),
    cpus: ad.getNumber(A.Cpus),
    memoryMb: ad.getNumber(A.Memory),
    diskKb: ad.getNumber(A.Disk),
    gpus: ad.getNumber(A.GPUs),
    totalCpus: ad.getNumber(A.TotalCpus),
    totalMemoryMb: ad.getNumber(A.TotalMemory),
    totalDiskKb: ad.getNumber(A.TotalDisk),
    totalGpus: ad.getNumber(A.TotalGPUs),
    numDynamicSlots: ad.getNumber(A.NumDynamicSlots),
    state: ad.getString(A.State),
    activity: ad.getString(A.Activity),
    toRetireS: ad.getNumber(A.ToRetire),
    toDieS: ad.getNumber(A.ToDie),
    daemonStartTimeS: ad.getNumber(A.DaemonStartTime),
    myCurrentTimeS: ad.getNumber(A.MyCurrentTime),
    timeToLiveS: ad.getNumber(A.TimeToLive),
    isBlackHole: ad.getBool(A.BlackHole),
    blackHoleReason: ad.getString(A.BlackHoleReason),
    entryName: ad.getString(A.EntryName),
    glideinName: ad.getString(A.GlideinName),
    factory: ad.getString(A.Factory),
    site: ad.getString(A.Site),
    clientName: ad.getString(A.ClientName),
    clientGroup: ad.getString(A.ClientGroup),
    authenticatedIdentity: ad.getString(COMMON.AuthenticatedIdentity),
  };
}

/**
 * Slot: a pilot's partitionable slot. The writer sets the pilot's accounting and times over the
 * attributes it publishes (node facts, the entry's and frontend's attributes), so a published
 * attribute can never pass for the slot's own; the reader gives what frontends count.
 */
import { ClassAd, parseExpression } from "../classad/index.js";
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
}

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
  ad.set(A.Start, parseExpression(r.start));
  ad.set(A.Requirements, A.Start);
  return ad;
}

/** Every field typed (undefined where absent or mistyped), and the pool's labels. */
export type ReadSlot = Partial<Omit<SlotAd, "start" | "blackHole" | "failure">> & {
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

/**
 * Scheduler: a schedd's ad, where user commands and frontends find it (`MyAddress`) and its
 * queue's totals, per owner in `Submitters` as a list of nested ads.
 */
import { ClassAd, ListValue } from "../classad/index.js";
import { AD_TYPE, COMMON, ENTRY_JOB_CPU, SCHEDULER as A, SUBMITTER } from "./names.js";

export interface SubmitterCounts {
  name: string;
  idleJobs: number;
  runningJobs: number;
  heldJobs: number;
}

export interface EntryJobCpu {
  entry: string;
  /** The entry's factory (the pilot's GLIDEIN_Factory); absent when the pilot did not say. */
  factory?: string;
  /** CPU seconds of finished runs since the schedd started; only grows until a restart. */
  cpuSeconds: number;
}

export interface SchedulerAd {
  name: string;
  /** The schedd's wire URL. */
  address: string;
  daemonStartTimeS: number;
  lastHeardFromS: number;
  totalIdleJobs: number;
  totalRunningJobs: number;
  totalHeldJobs: number;
  /** One per owner with jobs, in the order given. */
  submitters: readonly SubmitterCounts[];
  /** One per entry whose pilots ran jobs here. */
  jobCpuByEntry?: readonly EntryJobCpu[];
}

export function writeScheduler(r: SchedulerAd): ClassAd {
  const submitters = r.submitters.map((s) =>
    new ClassAd()
      .setValue(SUBMITTER.Name, s.name)
      .setValue(SUBMITTER.IdleJobs, s.idleJobs)
      .setValue(SUBMITTER.RunningJobs, s.runningJobs)
      .setValue(SUBMITTER.HeldJobs, s.heldJobs),
  );
  const ad = new ClassAd()
    .setValue(COMMON.MyType, AD_TYPE.Scheduler)
    .setValue(COMMON.Name, r.name)
    .setValue(A.ScheddIpAddr, r.address)
    .setValue(A.MyAddress, r.address)
    .setValue(A.DaemonStartTime, r.daemonStartTimeS)
    .setValue(A.LastHeardFrom, r.lastHeardFromS)
    .setValue(A.TotalIdleJobs, r.totalIdleJobs)
    .setValue(A.TotalRunningJobs, r.totalRunningJobs)
    .setValue(A.TotalHeldJobs, r.totalHeldJobs)
    .setValue(A.NumUsers, r.submitters.length);
  ad.set(A.Submitters, {
    kind: "list",
    items: submitters.map((s) => ({ kind: "classad", attrs: [...s.attributeExprs()] })),
  });
  if (r.jobCpuByEntry !== undefined) {
    ad.set(A.JobCpuByEntry, {
      kind: "list",
      items: r.jobCpuByEntry.map((e) => {
        const item = new ClassAd().setValue(ENTRY_JOB_CPU.Name, e.entry);
        if (e.factory !== undefined) item.setValue(ENTRY_JOB_CPU.Factory, e.factory);
        item.setValue(ENTRY_JOB_CPU.JobCpuSeconds, e.cpuSeconds);
        return { kind: "classad", attrs: [...item.attributeExprs()] };
      }),
    });
  }
  return ad;
}

/** Every field typed; undefined where absent or mistyped (submitters: only well-formed ones). */
export type ReadScheduler = Partial<Omit<SchedulerAd, "submitters" | "jobCpuByEntry">> & {
  submitters?: SubmitterCounts[];
  numUsers?: number;
};

function readSubmitters(ad: ClassAd): SubmitterCounts[] | undefined {
  const out: SubmitterCounts[] = [];
  const n = ad.evaluateExpr(`size(${A.Submitters})`);
  if (typeof n !== "number") return undefined;
  for (let i = 0; i < n; i++) {
    const at = (field: string) => ad.evaluateExpr(`${A.Submitters}[${i}].${field}`);
    const [name, idle, running, held] = [
      SUBMITTER.Name,
      SUBMITTER.IdleJobs,
      SUBMITTER.RunningJobs,
      SUBMITTER.HeldJobs,
    ].map(at);
    if (typeof name !== "string") continue;
    if (typeof idle !== "number" || typeof running !== "number" || typeof held !== "number")
      continue;
    out.push({ name, idleJobs: idle, runningJobs: running, heldJobs: held });
  }
  return out;
}

export function readScheduler(ad: ClassAd): ReadScheduler {
  return {
    name: ad.getString(COMMON.Name),
    address: ad.getString(A.MyAddress) ?? ad.getString(A.ScheddIpAddr),
    daemonStartTimeS: ad.getInteger(A.DaemonStartTime),
    lastHeardFromS: ad.getInteger(A.LastHeardFrom),
    totalIdleJobs: ad.getInteger(A.TotalIdleJobs),
    totalRunningJobs: ad.getInteger(A.TotalRunningJobs),
    totalHeldJobs: ad.getInteger(A.TotalHeldJobs),
    numUsers: ad.getInteger(A.NumUsers),
    submitters: readSubmitters(ad),
  };
}

/**
 * The well-formed items of `JobCpuByEntry` (a name and a finite, non-negative number; a factory
 * when it is a string), at most `max`; absent or mistyped gives none.
 */
export function readJobCpuByEntry(ad: ClassAd, max = 2000): EntryJobCpu[] {
  const list = ad.evaluate(A.JobCpuByEntry);
  if (!(list instanceof ListValue)) return [];
  const out: EntryJobCpu[] = [];
  for (const item of list.items) {
    if (out.length >= max) break;
    if (!(item instanceof ClassAd)) continue;
    const entry = item.getString(ENTRY_JOB_CPU.Name);
    const factory = item.getString(ENTRY_JOB_CPU.Factory);
    const cpu = item.getNumber(ENTRY_JOB_CPU.JobCpuSeconds);
    if (entry === undefined || cpu === undefined || !Number.isFinite(cpu) || cpu < 0) continue;
    out.push(
      factory === undefined ? { entry, cpuSeconds: cpu } : { entry, factory, cpuSeconds: cpu },
    );
  }
  return out;
}

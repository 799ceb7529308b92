/**
 * What a running pool is doing, for the demo's live view: jobs by state from the schedd, and per
 * entry the pilots requested (GlideClient), idle/running/held in the factory's books
 * (GlideFactoryClient) and slots registered (Slot). Gathering is IO; formatting is pure.
 */
import {
  AD_TYPE,
  GLIDE_CLIENT,
  JOB,
  readGlideClient,
  readGlideFactory,
  readGlideFactoryClient,
  readSlot,
  SLOT,
} from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import type { CollectorClient, WireAttrs } from "../collector/client.js";
import type { ScheddClient } from "../schedd/client.js";
import { JobStatus, numAttr } from "../schedd/job-status.js";

export interface EntryProgress {
  entry: string;
  site: string;
  downtime: boolean;
  requested: number;
  idle: number;
  running: number;
  held: number;
  slots: number;
}

export interface PoolProgress {
  jobs: { idle: number; running: number; held: number; completed: number; failed: number };
  entries: EntryProgress[];
  elapsedS: number;
}

/** Jobs of the given clusters (all when empty), queue and history together. */
export async function gatherJobs(
  schedd: ScheddClient,
  clusters: readonly number[],
): Promise<PoolProgress["jobs"]> {
  const constraint = clusters.length
    ? clusters.map((c) => `${JOB.ClusterId} == ${c}`).join(" || ")
    : "true";
  const projection = [JOB.JobStatus, JOB.ExitCode, JOB.ExitBySignal];
  const queue = await schedd.query({ constraint, projection });
  const history = await schedd.query({ constraint, projection, history: true });
  const jobs = { idle: 0, running: 0, held: 0, completed: 0, failed: 0 };
  for (const j of queue) {
    const s = numAttr(j, JOB.JobStatus);
    if (s === JobStatus.Idle) jobs.idle++;
    else if (s === JobStatus.Running) jobs.running++;
    else if (s === JobStatus.Held) jobs.held++;
  }
  for (const j of history) {
    if (numAttr(j, JOB.JobStatus) !== JobStatus.Completed) continue;
    if (numAttr(j, JOB.ExitCode) === 0 && j[JOB.ExitBySignal] !== "true") jobs.completed++;
    else jobs.failed++;
  }
  return jobs;
}

/** Wire ads parsed, the unreadable ones left out (the view shows what it can). */
function parsed(ads: readonly WireAttrs[]): ClassAd[] {
  return ads.flatMap((a) => {
    const r = tryParse(() => ClassAd.fromJSON(a));
    return r.ok ? [r.value] : [];
  });
}

export async function gatherEntries(collector: CollectorClient): Promise<EntryProgress[]> {
  const [entries, requests, books, slots] = await Promise.all([
    collector.query({ type: AD_TYPE.GlideFactory }),
    collector.query({
      type: AD_TYPE.GlideClient,
      projection: [GLIDE_CLIENT.ReqName, GLIDE_CLIENT.ReqIdleGlideins],
    }),
    collector.query({ type: AD_TYPE.GlideFactoryClient }),
    collector.query({
      type: AD_TYPE.Slot,
      projection: [SLOT.EntryName, SLOT.DynamicSlot, SLOT.SlotType],
    }),
  ]);
  const byEntry = new Map<string, EntryProgress>();
  for (const e of parsed(entries).map(readGlideFactory)) {
    const entry = e.entryName ?? "";
    byEntry.set(entry, {
      entry,
      site: e.site ?? "",
      downtime: e.inDowntime === true,
      requested: 0,
      idle: 0,
      running: 0,
      held: 0,
      slots: 0,
    });
  }
  for (const r of parsed(requests).map(readGlideClient)) {
    const p = byEntry.get((r.reqName ?? "").split("@")[0]!);
    if (p) p.requested += r.reqIdleGlideins ?? 0;
  }
  for (const b of parsed(books).map(readGlideFactoryClient)) {
    const p = byEntry.get(b.entryName ?? "");
    if (!p) continue;
    p.idle += b.idle ?? 0;
    p.running += b.running ?? 0;
    p.held += b.held ?? 0;
  }
  for (const s of parsed(slots).map(readSlot)) {
    if (s.dynamic) continue; // a job's share of a pilot counted below
    const p = byEntry.get(s.entryName ?? "");
    if (p) p.slots++;
  }
  return [...byEntry.values()].sort((a, b) => a.entry.localeCompare(b.entry));
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

/** The compact table the demo redraws in place. */
export function formatProgress(p: PoolProgress, total: number): string {
  const j = p.jobs;
  const done = j.completed + j.failed;
  const width = 30;
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  const lines = [
    `jobs  [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}  ` +
      `idle ${j.idle}  running ${j.running}  held ${j.held}  completed ${j.completed}  failed ${j.failed}  ` +
      `(${Math.round(p.elapsedS)} s)`,
    `${pad("ENTRY", 20)}${pad("SITE", 13)}${lpad("REQ", 5)}${lpad("IDLE", 6)}${lpad("RUN", 5)}${lpad("HELD", 6)}${lpad("SLOTS", 7)}`,
    ...p.entries.map(
      (e) =>
        `${pad(e.entry, 20)}${pad(e.site, 13)}${lpad(e.requested, 5)}${lpad(e.idle, 6)}` +
        `${lpad(e.running, 5)}${lpad(e.held, 6)}${lpad(e.slots, 7)}${e.downtime ? "  (downtime)" : ""}`,
    ),
  ];
  return lines.join("\n") + "\n";
}

/** One plain line, for logs and pipes. */
export function progressLine(p: PoolProgress, total: number): string {
  const j = p.jobs;
  const pilots = p.entries.reduce((n, e) => n + e.running, 0);
  return (
    `${Math.round(p.elapsedS)}s jobs ${j.completed + j.failed}/${total} done ` +
    `(idle ${j.idle}, running ${j.running}, held ${j.held}, failed ${j.failed}); ` +
    `pilots running ${pilots}\n`
  );
}

/**
 * What a partitionable slot has left once a claimed job took its share, so that a claim for
 * several jobs matches each next job against it (HTCondor's partitionable slot carves a
 * dynamic slot per job out of Cpus, Memory, Disk and GPUs the same way). Pure.
 */
import { jobRequests } from "../ads/job-requests.js";
import { SLOT } from "../ads/names.js";
import { ClassAd } from "../classad/index.js";
import { getAttr, setAttr, type JobAttrs } from "./job-status.js";

/** A slot value that is a plain number literal, else undefined. */
function amount(slot: JobAttrs, name: string): number | undefined {
  const text = getAttr(slot, name);
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  return Number(text);
}

/**
 * The slot's attributes with the job's requests taken out, or undefined when no CPU is left or
 * the slot's amounts are not plain numbers (then nothing can be worked out: one job per claim).
 */
export function slotLeftAfter(slot: JobAttrs, job: JobAttrs): JobAttrs | undefined {
  const cpus = amount(slot, SLOT.Cpus);
  const memory = amount(slot, SLOT.Memory);
  if (cpus === undefined || memory === undefined) return undefined;
  const want = jobRequests(ClassAd.fromJSON(job));
  if (cpus - want.cpus < 1) return undefined;
  const left = { ...slot };
  setAttr(left, SLOT.Cpus, String(cpus - want.cpus));
  setAttr(left, SLOT.Memory, String(Math.max(0, memory - want.memoryMb)));
  const disk = amount(slot, SLOT.Disk);
  if (disk !== undefined) setAttr(left, SLOT.Disk, String(Math.max(0, disk - want.diskKb)));
  const gpus = amount(slot, SLOT.GPUs);
  if (gpus !== undefined) setAttr(left, SLOT.GPUs, String(Math.max(0, gpus - want.gpus)));
  else if (want.gpus > 0) return undefined;
  return left;
}

/**
 * `updraft status -compact`, as condor_status -compact prints slots: one row per machine (its
 * pilots' slots summed), with the partitionable slot's free CPUs and memory, then the standard
 * summary of slot states per platform. Pure: ads in, text out.
 */
import { COMMON, isDynamicSlot, NODE, SLOT } from "../ads/index.js";
import { ClassAd } from "../classad/index.js";

type WireAd = Record<string, string>;

/** condor_status's PLATFORM: `x64/` and the OS name with its major version. */
function platform(ad: ClassAd): string {
  const arch = ad.getString(NODE.Arch) ?? "";
  const a = arch === "X86_64" ? "x64" : arch === "aarch64" ? "arm64" : arch || "?";
  const os = ad.getString(NODE.OpSysName) || ad.getString(NODE.OpSys) || "?";
  const major = ad.getInteger(NODE.OpSysMajorVer);
  return `${a}/${os}${major ?? ""}`;
}

const STATE_CODES: Readonly<Record<string, string>> = {
  Owner: "O",
  Unclaimed: "U",
  Matched: "M",
  Claimed: "C",
  Preempting: "P",
  Drained: "D",
  Backfill: "B",
};
const ACTIVITY_CODES: Readonly<Record<string, string>> = {
  Idle: "i",
  Busy: "b",
  Suspended: "s",
  Vacating: "v",
  Killing: "k",
  Benchmarking: "e",
  Retiring: "r",
};

/** condor_status's two-letter state and activity code (`Ui`, `Cb`, `Dr`). */
function activityCode(ad: ClassAd): string {
  return `${STATE_CODES[ad.getString(SLOT.State) ?? ""] ?? "?"}${ACTIVITY_CODES[ad.getString(SLOT.Activity) ?? ""] ?? "?"}`;
}

interface Row {
  machine: string;
  platform: string;
  slots: number;
  partitionable: boolean;
  cpus: number;
  gpus: number;
  totalMb: number;
  freeCpus: number;
  freeMb: number;
  code: string;
}

export function formatCompact(ads: readonly WireAd[]): string {
  const rows = new Map<string, Row>();
  const states = new Map<string, Map<string, number>>();
  for (const attrs of ads) {
    const ad = ClassAd.fromJSON(attrs);
    const machine = ad.getString(SLOT.Machine) || ad.getString(COMMON.Name) || "";
    const p = platform(ad);
    let row = rows.get(machine);
    if (row === undefined) {
      row = {
        machine,
        platform: p,
        slots: 0,
        partitionable: false,
        cpus: 0,
        gpus: 0,
        totalMb: 0,
        freeCpus: 0,
        freeMb: 0,
        code: activityCode(ad),
      };
      rows.set(machine, row);
    }
    // A dynamic slot's resources are already in its partitionable slot's totals (and counted
    // in its NumDynamicSlots); it adds its state to the machine's code and to the summary.
    if (!isDynamicSlot(ad)) {
      row.slots += ad.getInteger(SLOT.NumDynamicSlots) ?? 0;
      row.partitionable ||= ad.evaluate(SLOT.PartitionableSlot) === true;
      row.cpus += ad.getInteger(SLOT.TotalSlotCpus) ?? ad.getInteger(SLOT.Cpus) ?? 0;
      row.gpus += ad.getInteger(SLOT.TotalSlotGPUs) ?? ad.getInteger(SLOT.GPUs) ?? 0;
      row.totalMb += ad.getInteger(SLOT.TotalSlotMemory) ?? ad.getInteger(SLOT.Memory) ?? 0;
      row.freeCpus += ad.getInteger(SLOT.Cpus) ?? 0;
      row.freeMb += ad.getInteger(SLOT.Memory) ?? 0;
    }
    // A machine busy in any of its slots shows busy, as one partitionable slot with jobs does.
    if (row.code !== activityCode(ad) && activityCode(ad).startsWith("C")) row.code = "Cb";
    const byState = states.get(p) ?? new Map<string, number>();
    states.set(p, byState);
    const state = ad.getString(SLOT.State) || "Unknown";
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }
  const list = [...rows.values()].sort((a, b) => a.machine.localeCompare(b.machine));
  const mw = Math.max("Machine".length, ...list.map((r) => r.machine.length));
  const pw = Math.max("Platform".length, ...list.map((r) => r.platform.length));
  const gb = (mb: number) => (mb / 1024).toFixed(2).padStart(8);
  let out =
    `${"Machine".padEnd(mw)} ${"Platform".padEnd(pw)} Slots Cpus Gpus  TotalGb FreCpu  FreeGb  ` +
    `CpuLoad ST Jobs/Min MaxSlotGb\n\n`;
  for (const r of list) {
    const slots = `${String(r.slots).padStart(4)}${r.partitionable ? "P" : " "}`;
    out +=
      `${r.machine.padEnd(mw)} ${r.platform.padEnd(pw)} ${slots} ${String(r.cpus).padStart(4)} ` +
      `${String(r.gpus).padStart(4)} ${gb(r.totalMb)} ${String(r.freeCpus).padStart(6)} ` +
      `${gb(r.freeMb)} ${"_".padStart(8)} ${r.code} ${"_".padStart(8)} ${"*".padStart(9)}\n`;
  }
  return out + summary(states);
}

const SUMMARY_STATES = ["Owner", "Claimed", "Unclaimed", "Matched", "Preempting", "Drained"];

/** condor_status's standard summary: slots by state, per platform and in total. */
function summary(states: ReadonlyMap<string, ReadonlyMap<string, number>>): string {
  const labels = ["Total", "Owner", "Claimed", "Unclaimed", "Matched", "Preempting", "Drain"];
  const names = [...states.keys()].sort();
  const w = Math.max("Total".length, ...names.map((n) => n.length)) + 2;
  const line = (name: string, counts: ReadonlyMap<string, number>) => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const cells = [total, ...SUMMARY_STATES.map((s) => counts.get(s) ?? 0)];
    return `${name.padStart(w)} ${cells.map((c, i) => String(c).padStart(labels[i]!.length)).join(" ")}\n`;
  };
  const all = new Map<string, number>();
  for (const counts of states.values()) {
    for (const [s, n] of counts) all.set(s, (all.get(s) ?? 0) + n);
  }
  let out = `\n${" ".repeat(w)} ${labels.join(" ")}\n\n`;
  for (const n of names) out += line(n, states.get(n)!);
  return `${out}\n${line("Total", all)}`;
}

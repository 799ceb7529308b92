/**
 * From the ads the collector returns to the snapshot's records: a pilot's Slot ad to a slot
 * record, a factory's GlideFactoryClient ad to its per-entry counts. The daemon and
 * `updraft frontend snapshot` use these; `plan` reads the records directly.
 */
import { GLIDE_FACTORY_CLIENT as F, readSlot } from "../ads/index.js";
import type { ClassAd } from "../classad/index.js";
import type { FactoryClientCounts, SlotRecord } from "./snapshot.js";

/** `<frontend>.<group>` to the group: the client name's last dot-separated part. */
function groupOfClient(client: string | undefined): string | undefined {
  if (client === undefined) return undefined;
  const dot = client.lastIndexOf(".");
  return dot < 0 ? undefined : client.slice(dot + 1);
}

/**
 * A pilot's Slot ad as a slot record, or null when it is not a pilot of a frontend group (or is
 * a job's dynamic slot).
 * The entry is rebuilt as the GlideFactory ad names it: `<GLIDEIN_Entry_Name>@<GLIDEIN_Factory>`
 * for Updraft's factories, `<GLIDEIN_Entry_Name>@<GLIDEIN_Name>@<GLIDEIN_Factory>` for pilots
 * that carry glideinWMS's glidein name. A slot is busy when claimed or when a partitionable slot has dynamic
 * children; it is retiring once `GLIDEIN_ToRetire` (an absolute time) has passed.
 */
export function slotRecordFromAd(ad: ClassAd, now: number): SlotRecord | null {
  const slot = readSlot(ad);
  // A running job's dynamic slot: its pilot is counted once, from its partitionable slot (busy
  // while NumDynamicSlots > 0), as glideinWMS's frontend counts glideins on non-dynamic slots.
  if (slot.dynamic) return null;
  const group = slot.clientGroup ?? groupOfClient(slot.clientName);
  const { entryName: entry, glideinName: glidein, factory } = slot;
  if (!group || !entry || !factory) return null;
  const children = slot.numDynamicSlots ?? 0;
  const claimed = (slot.state ?? "Unclaimed") !== "Unclaimed";
  return {
    group,
    entry: glidein ? `${entry}@${glidein}@${factory}` : `${entry}@${factory}`,
    state: claimed || children > 0 ? "busy" : "idle",
    cpus: Math.max(0, Math.floor(slot.cpus ?? 0)),
    memory: Math.max(0, Math.floor(slot.memoryMb ?? 0)),
    retiring: slot.toRetireS !== undefined && slot.toRetireS <= now,
  };
}

/**
 * A GlideFactoryClient ad as counts for one (entry, group): `ReqClientName` names the client,
 * `ReqGlidein` the entry (the GlideFactory ad Name), and the factory's monitoring of this
 * client's pilots is in `GlideinMonitorTotalStatusIdle`, `...Running` and `...Held`.
 */
export function factoryClientFromAd(ad: ClassAd): FactoryClientCounts | null {
  const group = groupOfClient(ad.getString(F.ReqClientName));
  const entry = ad.getString(F.ReqGlidein);
  if (!group || !entry) return null;
  const count = (n: string) => Math.max(0, Math.floor(ad.getNumber(n) ?? 0));
  return {
    group,
    entry,
    idle: count(F.TotalStatusIdle),
    running: count(F.TotalStatusRunning),
    held: count(F.TotalStatusHeld),
  };
}

/**
 * From the ads the collector returns to the snapshot's records: a pilot's Slot ad to a slot
 * record, a factory's GlideFactoryClient ad to its per-entry counts. The daemon and
 * `updraft frontend snapshot` use these; `plan` reads the records directly.
 */
import { ClassAd } from "../classad/index.js";
import type { FactoryClientCounts, SlotRecord } from "./snapshot.js";

/** `<frontend>.<group>` to the group: the client name's last dot-separated part. */
function groupOfClient(client: string | undefined): string | undefined {
  if (client === undefined) return undefined;
  const dot = client.lastIndexOf(".");
  return dot < 0 ? undefined : client.slice(dot + 1);
}

/**
 * A pilot's Slot ad as a slot record, or null when it is not a pilot of a frontend group.
 * The entry is rebuilt as the GlideFactory ad names it: `<GLIDEIN_Entry_Name>@<GLIDEIN_Factory>`
 * for Updraft's factories, `<GLIDEIN_Entry_Name>@<GLIDEIN_Name>@<GLIDEIN_Factory>` for pilots
 * that carry glideinWMS's glidein name. A slot is busy when claimed or when a partitionable slot has dynamic
 * children; it is retiring once `GLIDEIN_ToRetire` (an absolute time) has passed.
 */
export function slotRecordFromAd(ad: ClassAd, now: number): SlotRecord | null {
  const group =
    ad.getString("GLIDECLIENT_Group") ?? groupOfClient(ad.getString("GLIDECLIENT_Name"));
  const entry = ad.getString("GLIDEIN_Entry_Name");
  const glidein = ad.getString("GLIDEIN_Name");
  const factory = ad.getString("GLIDEIN_Factory");
  if (!group || !entry || !factory) return null;
  const children = ad.getNumber("NumDynamicSlots") ?? 0;
  const claimed = (ad.getString("State") ?? "Unclaimed") !== "Unclaimed";
  const toRetire = ad.getNumber("GLIDEIN_ToRetire");
  return {
    group,
    entry: glidein ? `${entry}@${glidein}@${factory}` : `${entry}@${factory}`,
    state: claimed || children > 0 ? "busy" : "idle",
    cpus: Math.max(0, Math.floor(ad.getNumber("Cpus") ?? 0)),
    memory: Math.max(0, Math.floor(ad.getNumber("Memory") ?? 0)),
    retiring: toRetire !== undefined && toRetire <= now,
  };
}

/**
 * A GlideFactoryClient ad as counts for one (entry, group): `ReqClientName` names the client,
 * `ReqGlidein` the entry (the GlideFactory ad Name), and the factory's monitoring of this
 * client's pilots is in `GlideinMonitorTotalStatusIdle`, `...Running` and `...Held`.
 */
export function factoryClientFromAd(ad: ClassAd): FactoryClientCounts | null {
  const group = groupOfClient(ad.getString("ReqClientName"));
  const entry = ad.getString("ReqGlidein");
  if (!group || !entry) return null;
  const count = (n: string) => Math.max(0, Math.floor(ad.getNumber(n) ?? 0));
  return {
    group,
    entry,
    idle: count("GlideinMonitorTotalStatusIdle"),
    running: count("GlideinMonitorTotalStatusRunning"),
    held: count("GlideinMonitorTotalStatusHeld"),
  };
}

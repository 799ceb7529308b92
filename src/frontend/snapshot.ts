/**
 * What one frontend cycle sees of the pool, as plain JSON: the format `updraft frontend plan`
 * reads and the daemon assembles from its queries. Documented in src/frontend/README.md.
 * Ads travel as attribute name to expression text, as on the wire.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { UpdraftError } from "../common/errors.js";

const count = z.number().int().nonnegative();
const adText = z.record(z.string(), z.string());

const autoclusterSchema = z
  .object({
    /** Stable id within its schedd (the schedd's autocluster id). */
    id: z.string().min(1),
    schedd: z.string().min(1),
    /** Idle jobs in this autocluster. */
    count: count,
    /** Idle jobs per owner, for monitoring. */
    owners: z.record(z.string(), count).default({}),
    /** A representative job ad: the attributes that decide matching, as expression text. */
    job: adText,
  })
  .strict();

/** One of the group's pilots as its Slot ad describes it, reduced to what the counts need. */
const slotSchema = z
  .object({
    group: z.string().min(1),
    /** The GlideFactory ad Name of the entry that started the pilot (GLIDEIN_Entry_Name@...). */
    entry: z.string().min(1),
    /** `idle`: unclaimed, can take a job; `busy`: running one or more jobs. */
    state: z.enum(["idle", "busy"]),
    /** Cores and memory (MB) not yet given to jobs (a partitionable slot's leftovers). */
    cpus: count,
    memory: count,
    /** Past its retire time: takes no new job, so its cores are not idle capacity. */
    retiring: z.boolean().default(false),
  })
  .strict();

/** Per-entry counts, for pools where the slot ads were already summarised. */
const slotCountsSchema = z
  .object({
    group: z.string().min(1),
    entry: z.string().min(1),
    idle: count,
    running: count,
    total: count,
    /** Idle cores that can take a job now (enough memory left, not retiring). */
    idle_cores_usable: count,
  })
  .strict();

/** The factory's monitoring for one (entry, client): pilots it holds for this group. */
const factoryClientSchema = z
  .object({
    group: z.string().min(1),
    entry: z.string().min(1),
    /** Submitted, waiting in the site's queue. */
    idle: count,
    running: count,
    held: count,
  })
  .strict();

export const snapshotSchema = z
  .object({
    /** Seconds since the epoch when the snapshot was taken (informative). */
    taken_at: z.number().int().nonnegative().optional(),
    autoclusters: z.array(autoclusterSchema),
    factory_ads: z.array(adText),
    slots: z.array(slotSchema).default([]),
    slot_counts: z.array(slotCountsSchema).default([]),
    factory_clients: z.array(factoryClientSchema).default([]),
    /** The schedds served this cycle, in the order pilots ask them; the configured list if absent. */
    schedds: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type Snapshot = z.output<typeof snapshotSchema>;
export type SnapshotInput = z.input<typeof snapshotSchema>;
export type AutoclusterSummary = Snapshot["autoclusters"][number];
export type SlotRecord = Snapshot["slots"][number];
export type FactoryClientCounts = Snapshot["factory_clients"][number];

/** A snapshot file that cannot be used, with every problem and where it is. */
export class SnapshotError extends UpdraftError {
  readonly code = "snapshot-invalid";
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.join("; ")}`);
    this.name = "SnapshotError";
  }
}

export function parseSnapshot(text: string, file = "snapshot.json"): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(file, [`not JSON: ${(err as Error).message}`]);
  }
  const result = snapshotSchema.safeParse(raw);
  if (!result.success) {
    throw new SnapshotError(
      file,
      result.error.issues.map(
        (i) => `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`,
      ),
    );
  }
  return result.data;
}

export function loadSnapshot(file: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new SnapshotError(file, [`cannot read: ${(err as Error).message}`]);
  }
  return parseSnapshot(text, file);
}

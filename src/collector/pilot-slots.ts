/**
 * The Slot ads of pilots with a bound credential: a partitionable slot and one dynamic slot per
 * running job, as HTCondor's startd advertises `slot1` and `slot1_N`. All of one credential's
 * Slot ads carry one pilot name (`slotN@<pilot>`, `slotN_M@<pilot>`), and there are at most the
 * partitionable slot's CPUs + 1 of them, so a stolen pilot token can neither advertise another
 * pilot's slots (squatting the names it would use) nor fill the collector with made-up ones.
 * Pure bookkeeping; the collector calls it around each write and on each removal.
 */
import { COMMON } from "../ads/names.js";

/** Dynamic slots one pilot may hold, whatever CPU count its partitionable slot claims. */
export const MAX_DYNAMIC_SLOTS_PER_PILOT = 1024;

const SLOT_NAME = /^slot\d+(_\d+)?@(.+)$/i;

interface PilotSlots {
  /** The part of the names after the first `@`, lower case. */
  pilot: string;
  /** Lower-case names held. */
  names: Set<string>;
  /** TotalCpus of its partitionable slot, as last advertised. */
  cpus: number;
}

export type SlotRefusal = { attribute: string; message: string };

export class PilotSlotIndex {
  private readonly byIdentity = new Map<string, PilotSlots>();

  /**
   * Whether `identity` may write the Slot ad `name`; `totalCpus` is the ad's TotalCpus (used only
   * from a partitionable slot's ad, one whose name has no `_N`).
   */
  check(identity: string, name: string, totalCpus: number | undefined): SlotRefusal | undefined {
    const parsed = SLOT_NAME.exec(name);
    if (!parsed) {
      return {
        attribute: COMMON.Name,
        message: `a pilot's Slot ad is named slotN@<pilot> or, for a job's dynamic slot, slotN_M@<pilot>; got '${name.slice(0, 200)}'`,
      };
    }
    const pilot = parsed[2]!.toLowerCase();
    const held = this.byIdentity.get(identity);
    if (held === undefined) return undefined;
    if (held.pilot !== pilot) {
      return {
        attribute: COMMON.Name,
        message: `Slot ad '${name.slice(0, 200)}' names another pilot than the one this credential advertises (${held.pilot})`,
      };
    }
    const key = name.toLowerCase();
    if (held.names.has(key)) return undefined;
    const cpus = parsed[1] === undefined ? (totalCpus ?? 0) : held.cpus;
    const bound = Math.min(Math.max(0, Math.floor(cpus)), MAX_DYNAMIC_SLOTS_PER_PILOT) + 1;
    if (held.names.size >= bound) {
      return {
        attribute: COMMON.Name,
        message: `this pilot credential already holds ${held.names.size} Slot ads (its partitionable slot's TotalCpus + 1): invalidate an ended job's dynamic slot before advertising '${name.slice(0, 200)}'`,
      };
    }
    return undefined;
  }

  /** A Slot ad `check` allowed was stored. */
  added(identity: string, name: string, totalCpus: number | undefined): void {
    const parsed = SLOT_NAME.exec(name);
    if (!parsed) return;
    let held = this.byIdentity.get(identity);
    if (held === undefined) {
      held = { pilot: parsed[2]!.toLowerCase(), names: new Set(), cpus: 0 };
      this.byIdentity.set(identity, held);
    }
    held.names.add(name.toLowerCase());
    if (parsed[1] === undefined && totalCpus !== undefined) held.cpus = totalCpus;
  }

  /** A Slot ad left the store (invalidated or expired). */
  removed(identity: string, name: string): void {
    const held = this.byIdentity.get(identity);
    if (held === undefined) return;
    held.names.delete(name.toLowerCase());
    if (held.names.size === 0) this.byIdentity.delete(identity);
  }
}

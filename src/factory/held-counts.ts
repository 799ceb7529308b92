/**
 * Held pilots counted by entry, the shape of their hold reason and whether the hold is
 * recoverable, kept in step with the store's writes, so that a scrape of /metrics reads a few
 * hundred counts instead of walking every live pilot.
 */
import { labelValue } from "../wire/metric-labels.js";

/**
 * A hold reason without what varies per pilot: numbers become N, quoted or bracketed details
 * and anything after a colon are dropped ("Slurm job 123 is held (JobHeldAdmin)" and the same
 * for job 456 are one series).
 */
export function holdReasonShape(reason: string | null): string {
  if (!reason) return "unknown";
  const s = reason
    .split(":")[0]!
    .replace(/\([^)]*\)|"[^"]*"|'[^']*'/g, "")
    .replace(/\d+/g, "N")
    .replace(/\s+/g, " ")
    .trim();
  return labelValue(s.slice(0, 80)) || "unknown";
}

export interface HeldGroup {
  readonly entry: string;
  readonly reason: string;
  readonly recoverable: boolean;
  count: number;
}

export interface HeldPilot {
  readonly entry: string;
  readonly holdReason: string | null;
  readonly holdRecoverable: boolean;
}

export class HeldCounts {
  private readonly groups = new Map<string, HeldGroup>();

  /** Groups with at least one held pilot (a group whose pilots all left is forgotten). */
  get all(): Iterable<Readonly<HeldGroup>> {
    return this.groups.values();
  }

  add(p: HeldPilot): void {
    this.bump(p, 1);
  }

  remove(p: HeldPilot): void {
    this.bump(p, -1);
  }

  clear(): void {
    this.groups.clear();
  }

  private bump(p: HeldPilot, by: number): void {
    const reason = holdReasonShape(p.holdReason);
    const key = `${p.entry}\u0000${reason}\u0000${p.holdRecoverable ? 1 : 0}`;
    const g = this.groups.get(key);
    if (g) {
      g.count += by;
      // Reasons come from CEs: forgetting empty groups keeps their number that of held pilots.
      if (g.count === 0) this.groups.delete(key);
    } else
      this.groups.set(key, { entry: p.entry, reason, recoverable: p.holdRecoverable, count: by });
  }
}

/**
 * The last failed pilots of each entry, for the pool page's list of individual failures beside
 * the counts by class: when, for which client, the failure class and the one-line summary the
 * factory already bounds (cycle-observe.ts `failureSummary`). A few per entry, since the list
 * travels in the entry's GlideFactory ad every cycle. Kept in memory: after a restart the list
 * starts empty, while the counts by class (the store's counters) carry on.
 */

/** Failures each entry's ad lists, newest first. */
export const RECENT_PER_ENTRY = 5;

export interface RecentFailure {
  /** Milliseconds since the epoch. */
  at: number;
  client: string;
  /** A known failure class, or Unknown. */
  failureClass: string;
  /** The bounded one-line summary. */
  error: string;
}

export class RecentFailures {
  private readonly byEntry = new Map<string, RecentFailure[]>();

  note(entry: string, f: RecentFailure): void {
    let list = this.byEntry.get(entry);
    if (list === undefined) this.byEntry.set(entry, (list = []));
    list.unshift(f);
    if (list.length > RECENT_PER_ENTRY) list.length = RECENT_PER_ENTRY;
  }

  /** Newest first. */
  of(entry: string): readonly RecentFailure[] {
    return this.byEntry.get(entry) ?? [];
  }
}

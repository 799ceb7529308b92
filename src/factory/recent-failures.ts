/**
 * The last failed pilots of each entry, for the pool page's list of individual failures beside
 * the counts by class: when, for which client, the failure class and the one-line summary the
 * factory already bounds (cycle-observe.ts `failureSummary`). A few per entry, since the list
 * travels in the entry's GlideFactory ad every cycle. Kept in memory for the ads and, when given
 * the factory's store, written there as each is noted (in the cycle's transaction) and read back
 * at start, so a restarted factory lists the failures from before it stopped.
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

/** Where the lists are kept across restarts (the factory's store). */
export interface RecentFailuresStore {
  recordRecentFailure(entry: string, f: RecentFailure, keep: number): void;
  /** Oldest first. */
  recentFailures(): Iterable<{ entry: string; failure: RecentFailure }>;
}

export class RecentFailures {
  private readonly byEntry = new Map<string, RecentFailure[]>();

  constructor(private readonly store?: RecentFailuresStore) {
    for (const { entry, failure } of store?.recentFailures() ?? []) this.remember(entry, failure);
  }

  note(entry: string, f: RecentFailure): void {
    this.store?.recordRecentFailure(entry, f, RECENT_PER_ENTRY);
    this.remember(entry, f);
  }

  /** Newest first. */
  of(entry: string): readonly RecentFailure[] {
    return this.byEntry.get(entry) ?? [];
  }

  private remember(entry: string, f: RecentFailure): void {
    let list = this.byEntry.get(entry);
    if (list === undefined) this.byEntry.set(entry, (list = []));
    list.unshift(f);
    if (list.length > RECENT_PER_ENTRY) list.length = RECENT_PER_ENTRY;
  }
}

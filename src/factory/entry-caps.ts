/**
 * Per-entry budgets for one cycle's removals and releases, as glideinWMS's
 * `<remove max_per_cycle="5"/>` and `<release max_per_cycle="20"/>`: a wrong request, a
 * misread status or a mass hold at a site then costs a few pilots per cycle, and an operator
 * sees it in the log long before the site is drained. What a budget defers is decided again
 * next cycle from fresh state. Pure: no IO, no clock.
 */

export interface EntryBudget {
  /** How many of `wanted` the entry may still have this cycle; the answer is spent. */
  take(entry: string, wanted: number): number;
  /** What the entry spent so far this cycle. */
  spent(entry: string): number;
}

export function createEntryBudget(limitOf: (entry: string) => number): EntryBudget {
  const used = new Map<string, number>();
  return {
    take(entry, wanted) {
      const spent = used.get(entry) ?? 0;
      const n = Math.max(0, Math.min(wanted, limitOf(entry) - spent));
      used.set(entry, spent + n);
      return n;
    },
    spent: (entry) => used.get(entry) ?? 0,
  };
}

/**
 * Splits `items` (in order of preference) into those the budget allows this cycle and those
 * deferred to the next, entry by entry.
 */
export function withinBudget<T>(
  items: readonly T[],
  entryOf: (item: T) => string,
  budget: EntryBudget,
): { kept: T[]; deferred: T[] } {
  const kept: T[] = [];
  const deferred: T[] = [];
  for (const item of items) (budget.take(entryOf(item), 1) === 1 ? kept : deferred).push(item);
  return { kept, deferred };
}

/** The two budgets a cycle keeps, from each entry's `remove`/`release` settings. */
export interface CycleBudgets {
  remove: EntryBudget;
  release: EntryBudget;
}

export function cycleBudgets(
  limits: (entry: string) => { remove: number; release: number },
): CycleBudgets {
  return {
    remove: createEntryBudget((e) => limits(e).remove),
    release: createEntryBudget((e) => limits(e).release),
  };
}

/**
 * A hang guard for tests that wait on real daemons: a wait that never ends fails with what it
 * waited for instead of stalling the run. Not a timing check: every wait ends far sooner when
 * things work.
 */

/** `within(p, what)`: `p`, or a rejection naming `what` after `guardMs`. */
export function hangGuard(guardMs: number) {
  return function within<T>(p: Promise<T>, what: string): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no result in ${guardMs} ms`)), guardMs);
    });
    return Promise.race([p, guard]).finally(() => clearTimeout(t));
  };
}

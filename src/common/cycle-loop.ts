/**
 * The loop of a daemon that works in cycles (the factory, the frontend): one cycle now, then the
 * next `intervalMs` after each one ends. Cycles never overlap: a cycle asked for while one runs
 * waits for it. A failed cycle is handed to `onError` and the next one still runs; `stop` starts
 * no new cycle and returns once the one in flight has ended. `wake` brings the next scheduled
 * cycle forward when something the cycle reads has changed (a new request), so the daemon answers
 * at once instead of up to a whole interval later.
 */
export interface CycleLoopOptions<R> {
  cycle: () => Promise<R>;
  /** Pause between the end of a cycle and the start of the next, read before each pause. */
  intervalMs: () => number;
  /** A scheduled cycle's failure (log it); a cycle run through `runNow` rejects to its caller. */
  onError: (err: unknown) => void;
}

export interface CycleLoop<R> {
  /** Run the first cycle now and schedule the rest; resolves once the first cycle has ended. */
  start(): Promise<void>;
  /** Run one cycle now, after the one in flight if there is one. */
  runNow(): Promise<R>;
  /**
   * Run the next scheduled cycle now, or right after the one in flight (which may have read
   * before the change). Wakes while a cycle runs collapse into one cycle after it.
   */
  wake(): void;
  /** Schedule no more cycles; resolves when the cycle in flight (if any) has ended. */
  stop(): Promise<void>;
}

export function createCycleLoop<R>(opts: CycleLoopOptions<R>): CycleLoop<R> {
  let inFlight: Promise<R> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let woken = false;

  async function runNow(): Promise<R> {
    // Re-check after every wait: another waiter may have started its cycle first.
    while (inFlight) await inFlight.catch(() => undefined);
    // A wake from now on concerns what this cycle may not have read.
    woken = false;
    const p = Promise.resolve().then(opts.cycle);
    inFlight = p;
    try {
      return await p;
    } finally {
      if (inFlight === p) inFlight = undefined;
    }
  }

  async function runScheduled(): Promise<void> {
    timer = undefined;
    try {
      await runNow();
    } catch (err) {
      opts.onError(err);
    } finally {
      if (!stopped) {
        timer = setTimeout(() => void runScheduled(), woken ? 0 : opts.intervalMs());
      }
    }
  }

  function wake(): void {
    if (stopped) return;
    // Seen by the cycle in flight's end (it may have read before the change), else reset by the
    // next cycle's start; a scheduled cycle waiting its interval runs now instead.
    woken = true;
    if (timer) {
      clearTimeout(timer);
      timer = setTimeout(() => void runScheduled(), 0);
    }
  }

  return {
    start: () => runScheduled(),
    runNow,
    wake,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (inFlight) await inFlight.catch(() => undefined);
    },
  };
}

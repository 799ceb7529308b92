/**
 * The loop of a daemon that works in cycles (the factory, the frontend): one cycle now, then the
 * next `intervalMs` after each one ends. Cycles never overlap: a cycle asked for while one runs
 * waits for it. A failed cycle is handed to `onError` and the next one still runs; `stop` starts
 * no new cycle and returns once the one in flight has ended.
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
  /** Schedule no more cycles; resolves when the cycle in flight (if any) has ended. */
  stop(): Promise<void>;
}

export function createCycleLoop<R>(opts: CycleLoopOptions<R>): CycleLoop<R> {
  let inFlight: Promise<R> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function runNow(): Promise<R> {
    // Re-check after every wait: another waiter may have started its cycle first.
    while (inFlight) await inFlight.catch(() => undefined);
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
      if (!stopped) timer = setTimeout(() => void runScheduled(), opts.intervalMs());
    }
  }

  return {
    start: () => runScheduled(),
    runNow,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (inFlight) await inFlight.catch(() => undefined);
    },
  };
}

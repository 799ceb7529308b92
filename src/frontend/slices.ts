/**
 * The cycle's computation in slices: the match evaluates users' expressions for every autocluster
 * and entry, which under a hostile queue is seconds of work, and the daemon's loop must still
 * answer its listeners (metrics) meanwhile. The computation is written once, as a generator that
 * yields the evaluation steps it has just spent; run to the end for the CLI and tests, or in
 * slices by the daemon, which gives the event loop a turn between them.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";

/** Work that yields, between pieces, the evaluation steps the last piece spent. */
export type Sliced<T> = Generator<number, T, void>;

export interface SliceBounds {
  /** Steps evaluated before other work gets a turn. */
  sliceSteps: number;
  /** Milliseconds before other work gets a turn, whatever the steps. */
  sliceMs: number;
}

/** As the schedd's periodic pass: a slice is a few tens of milliseconds at most. */
export const DEFAULT_SLICE_BOUNDS: SliceBounds = { sliceSteps: 200_000, sliceMs: 20 };

/** Run the work to its end in one go. */
export function runToEnd<T>(work: Sliced<T>): T {
  for (;;) {
    const r = work.next();
    if (r.done === true) return r.value;
  }
}

/** Run the work, giving the event loop a turn whenever a slice's steps or time are spent. */
export async function runInSlices<T>(
  work: Sliced<T>,
  bounds: SliceBounds = DEFAULT_SLICE_BOUNDS,
): Promise<T> {
  let steps = 0;
  let start = performance.now();
  for (;;) {
    const r = work.next();
    if (r.done === true) return r.value;
    steps += r.value;
    if (steps >= bounds.sliceSteps || performance.now() - start >= bounds.sliceMs) {
      await yieldToLoop();
      steps = 0;
      start = performance.now();
    }
  }
}

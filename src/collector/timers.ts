/**
 * Timers as the collector uses them, injectable so that tests drive expiry with a manual clock
 * instead of waiting. `set` returns the function that cancels the timer.
 */
import type { Clock } from "../common/clock.js";

export interface Timers {
  set(fn: () => void, delayMs: number): () => void;
}

// setTimeout takes a signed 32-bit delay; longer waits are re-armed when they come due.
const MAX_DELAY = 2 ** 31 - 1;

export const realTimers: Timers = {
  set(fn, delayMs) {
    const t = setTimeout(fn, Math.min(Math.max(0, delayMs), MAX_DELAY));
    return () => clearTimeout(t);
  },
};

/**
 * Runs `fire` when the clock reaches the store's next deadline. Rescheduled after every change
 * that could bring the deadline nearer; a timer that fires early (the ad it was set for was
 * refreshed) just re-arms for the new next deadline.
 */
export class DeadlineTimer {
  private cancel: (() => void) | undefined;
  private armedFor: number | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly nextDeadline: () => number | undefined,
    private readonly fire: () => void,
  ) {}

  reschedule(): void {
    if (this.stopped) return;
    const next = this.nextDeadline();
    if (next === this.armedFor) return;
    if (next !== undefined && this.armedFor !== undefined && next > this.armedFor) return;
    this.cancel?.();
    this.armedFor = next;
    this.cancel = undefined;
    if (next === undefined) return;
    this.cancel = this.timers.set(() => {
      this.cancel = undefined;
      this.armedFor = undefined;
      this.fire();
      this.reschedule();
    }, next - this.clock.now());
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }
}

/** Run `fn` every `periodMs` on the given timers until the returned function is called. */
export function every(timers: Timers, periodMs: number, fn: () => void): () => void {
  let cancel: () => void = () => undefined;
  let stopped = false;
  const arm = () => {
    cancel = timers.set(() => {
      fn();
      if (!stopped) arm();
    }, periodMs);
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}

/**
 * Counts events per second over the last minute, for the update rates the collector publishes in
 * its own ad. Pure: the caller passes the time.
 */
export class RateWindow {
  private readonly buckets: number[];
  private readonly stamps: number[];
  total = 0;

  constructor(private readonly seconds = 60) {
    this.buckets = new Array<number>(seconds).fill(0);
    this.stamps = new Array<number>(seconds).fill(-1);
  }

  add(nowMs: number, n = 1): void {
    const sec = Math.floor(nowMs / 1000);
    const i = sec % this.seconds;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += n;
    this.total += n;
  }

  /** Events in the last `seconds` seconds, the current one included. */
  lastWindow(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let i = 0; i < this.seconds; i++) {
      const s = this.stamps[i]!;
      if (s > sec - this.seconds && s <= sec) sum += this.buckets[i]!;
    }
    return sum;
  }

  /** Mean events per second over the window. */
  perSecond(nowMs: number): number {
    return this.lastWindow(nowMs) / this.seconds;
  }
}

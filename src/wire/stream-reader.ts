/**
 * The consumer end of a server stream: an async iterator fed by the call table. Breaking out of
 * a `for await` loop (or calling return()) cancels the call on the server.
 */
import type { WireError } from "./errors.js";

type Waiter = {
  resolve: (r: IteratorResult<Uint8Array>) => void;
  reject: (e: WireError) => void;
};

export class StreamReader implements AsyncIterableIterator<Uint8Array> {
  private readonly items: Uint8Array[] = [];
  private head = 0;
  private waiter: Waiter | undefined;
  private done = false;
  private error: WireError | undefined;
  private received = 0;
  private consumedSinceGrant = 0;

  /**
   * `grant(n)` tells the server the consumer took n more items; it is called every half window,
   * so the server never has more than `window` items in flight or buffered here (0: no limit).
   */
  constructor(
    private readonly onReturn: () => void,
    private readonly grant: (items: number) => void = () => {},
    private readonly window = 0,
  ) {}

  /** Items delivered so far (a stream that already produced items is never re-sent). */
  get itemsReceived(): number {
    return this.received;
  }

  /** Items received and not yet taken by the consumer. */
  get buffered(): number {
    return this.items.length - this.head;
  }

  push(item: Uint8Array): void {
    if (this.done) return;
    this.received++;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.consumed();
      w.resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.finish(undefined);
  }

  fail(err: WireError): void {
    this.finish(err);
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.consumed();
      return Promise.resolve({ value, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.done) {
      this.done = true;
      this.onReturn();
    }
    this.items.length = 0;
    this.head = 0;
    this.error = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  private consumed(): void {
    if (this.window === 0 || this.done) return;
    if (++this.consumedSinceGrant >= Math.max(1, Math.floor(this.window / 2))) {
      this.grant(this.consumedSinceGrant);
      this.consumedSinceGrant = 0;
    }
  }

  private finish(err: WireError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    const w = this.waiter;
    this.waiter = undefined;
    if (!w) return;
    if (err) w.reject(err);
    else w.resolve({ value: undefined, done: true });
  }
}

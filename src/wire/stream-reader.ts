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

  constructor(private readonly onReturn: () => void) {}

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

/**
 * Connection status as a discriminated union, delivered to listeners and readable as an async
 * iterable (each iterator sees every status from the moment it starts).
 */
import type { WireError } from "./errors.js";

export type ConnectionStatus =
  | { type: "connecting"; attempt: number }
  | { type: "connected" }
  /** retryInMs is -1 when no retry is scheduled: the next call reconnects (after an idle close). */
  | { type: "disconnected"; error: WireError | undefined; retryInMs: number }
  | { type: "closed" };

/**
 * True when the connection is known to be down: dropped with a reconnection pending, closed, or
 * reconnecting after a drop. A call made now would wait for the reconnection until its deadline.
 * The first connection and one after an idle close (the next call reconnects) are not down.
 */
export function isKnownDown(s: ConnectionStatus): boolean {
  if (s.type === "closed") return true;
  if (s.type === "disconnected") return s.retryInMs >= 0;
  return s.type === "connecting" && s.attempt > 0;
}

type Subscriber = {
  queue: ConnectionStatus[];
  wake: ((r: IteratorResult<ConnectionStatus>) => void) | undefined;
  done: boolean;
};

export class StatusChannel {
  private readonly listeners = new Set<(s: ConnectionStatus) => void>();
  private readonly subscribers = new Set<Subscriber>();
  private last: ConnectionStatus = { type: "connecting", attempt: 0 };

  get current(): ConnectionStatus {
    return this.last;
  }

  publish(status: ConnectionStatus): void {
    this.last = status;
    for (const l of this.listeners) l(status);
    for (const s of this.subscribers) {
      if (s.wake) {
        const wake = s.wake;
        s.wake = undefined;
        wake({ value: status, done: false });
      } else {
        s.queue.push(status);
      }
    }
  }

  /** Call `listener` on every change; returns the function that stops it. */
  on(listener: (s: ConnectionStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every status from now on; the iteration ends after `closed`. */
  iterate(): AsyncIterableIterator<ConnectionStatus> {
    const sub: Subscriber = { queue: [], wake: undefined, done: this.last.type === "closed" };
    this.subscribers.add(sub);
    const finish = () => {
      sub.done = true;
      this.subscribers.delete(sub);
    };
    const it: AsyncIterableIterator<ConnectionStatus> = {
      next: () => {
        const value = sub.queue.shift();
        if (value) {
          if (value.type === "closed") finish();
          return Promise.resolve({ value, done: false });
        }
        if (sub.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          sub.wake = (r) => {
            if (!r.done && r.value.type === "closed") finish();
            resolve(r);
          };
        });
      },
      return: () => {
        finish();
        sub.wake?.({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}

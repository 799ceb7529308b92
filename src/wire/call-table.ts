/**
 * The client side of the protocol, without the socket: assigns request ids, matches replies to
 * calls, enforces client-side deadlines and cancellation, and decides what survives a
 * disconnect. Calls not yet sent wait for the next connection; calls already sent fail with
 * `unavailable` unless the caller marked them idempotent, in which case they are sent again.
 */
import type { Envelope } from "./envelope.js";
import {
  CancelledError,
  DeadlineExceededError,
  UnavailableError,
  WireError,
  errorFromWire,
} from "./errors.js";
import { StreamReader } from "./stream-reader.js";

export type CallOptions = {
  /** Give up after this long; unary calls default to the client's default deadline. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** Safe to send again after a disconnect (a query, not a state change). */
  idempotent?: boolean;
  /**
   * Streams: items the server may send ahead of the consumer (default 256). A consumer that
   * stops reading holds at most this many items in memory; 0 turns per-stream flow off.
   */
  window?: number;
};

export const DEFAULT_STREAM_WINDOW = 256;

/**
 * Calls a client has on the wire at once, the server's default per-connection limit: more wait
 * here, in order, and go out as replies come back (as HTTP/2 streams wait for
 * SETTINGS_MAX_CONCURRENT_STREAMS), instead of being refused with too-many-calls. Streams (watches)
 * have a bound of their own at the server and do not count here, so open watches never hold up
 * calls.
 */
export const DEFAULT_MAX_CALLS_IN_FLIGHT = 32;

/** Where the table sends frames; returns false when there is no connection to send on. */
export type EnvelopeOut = (env: Envelope) => boolean;

/** One call in flight. A class so every call has the same shape (cheap on the hot path). */
class Call {
  sent = false;
  /** Streams: the flow-control window announced in the request. */
  window = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  detach: (() => void) | undefined = undefined;

  constructor(
    readonly id: number,
    readonly method: string,
    readonly payload: Uint8Array,
    /** Absolute deadline in ms since the epoch, or Infinity. */
    readonly deadline: number,
    readonly idempotent: boolean,
    /** Set for unary calls. */
    readonly resolve: ((b: Uint8Array) => void) | undefined,
    readonly reject: ((e: WireError) => void) | undefined,
    /** Set for streams. */
    readonly reader: StreamReader | undefined,
  ) {}
}

export class CallTable {
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closedWith: WireError | undefined;
  /** Unary calls sent on the current connection and not yet settled. */
  private onWire = 0;
  private connected = false;

  constructor(
    private readonly out: EnvelopeOut,
    private readonly defaultDeadlineMs: number,
    private readonly maxInFlight = DEFAULT_MAX_CALLS_IN_FLIGHT,
  ) {}

  get inFlight(): number {
    return this.calls.size;
  }

  call(method: string, payload: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const ms = opts.deadlineMs ?? this.defaultDeadlineMs;
      const deadline = ms > 0 ? Date.now() + ms : Infinity;
      const idempotent = opts.idempotent ?? false;
      const call = new Call(
        this.nextId++,
        method,
        payload,
        deadline,
        idempotent,
        resolve,
        reject,
        undefined,
      );
      this.start(call, opts.signal, ms);
    });
  }

  stream(
    method: string,
    payload: Uint8Array,
    opts: CallOptions = {},
  ): AsyncIterableIterator<Uint8Array> {
    const ms = opts.deadlineMs ?? 0;
    const id = this.nextId++;
    const window = opts.window ?? DEFAULT_STREAM_WINDOW;
    const reader = new StreamReader(
      () => this.cancel(id, new CancelledError("stream closed by reader")),
      (items) => {
        if (this.calls.get(id)?.sent) this.out({ id, kind: "credit", items });
      },
      window,
    );
    const deadline = ms > 0 ? Date.now() + ms : Infinity;
    const idempotent = opts.idempotent ?? false;
    const call = new Call(id, method, payload, deadline, idempotent, undefined, undefined, reader);
    call.window = window;
    this.start(call, opts.signal, ms);
    return reader;
  }

  /** A frame from the server. */
  onEnvelope(env: Envelope): void {
    const call = this.calls.get(env.id);
    if (!call) return; // a reply that crossed our cancel
    switch (env.kind) {
      case "response":
        if (call.resolve) {
          this.remove(call);
          call.resolve(env.payload);
        }
        return;
      case "item":
        call.reader?.push(env.payload);
        return;
      case "end":
        if (call.reader) {
          this.remove(call);
          call.reader.end();
        }
        return;
      case "error":
        this.settle(call, errorFromWire(env.code, env.message, env.details));
        return;
      default:
        return;
    }
  }

  /** A connection is up: send what is waiting, oldest first, calls up to the in-flight limit. */
  onConnected(): void {
    this.connected = true;
    for (const call of this.calls.values()) {
      if (this.connected && call.reader && !call.sent) this.send(call);
    }
    this.sendWaiting();
  }

  /** Unary calls waiting for a slot; streams go out as soon as there is a connection. */
  private sendWaiting(): void {
    for (const call of this.calls.values()) {
      if (this.onWire >= this.maxInFlight || !this.connected) return;
      if (!call.sent && !call.reader) this.send(call);
    }
  }

  /** The connection dropped: fail what cannot safely be repeated, keep the rest for later. */
  onDisconnected(cause: WireError | undefined): void {
    this.connected = false;
    for (const call of [...this.calls.values()]) {
      if (!call.sent) continue;
      const repeatable =
        call.idempotent && (call.reader === undefined || call.reader.itemsReceived === 0);
      if (repeatable) {
        call.sent = false;
        if (!call.reader) this.onWire--;
        continue;
      }
      const details: Record<string, string> = cause ? { cause: cause.code } : {};
      this.settle(call, new UnavailableError("connection lost during the call", details));
    }
  }

  /** Connecting failed for a reason retrying will not fix: fail the calls still waiting. */
  failWaiting(err: WireError): void {
    for (const call of [...this.calls.values()]) if (!call.sent) this.settle(call, err);
  }

  /** The client is closed for good: fail every call. */
  close(err: WireError): void {
    this.closedWith = err;
    for (const call of [...this.calls.values()]) this.settle(call, err);
  }

  private start(call: Call, signal: AbortSignal | undefined, ms: number): void {
    if (this.closedWith) return this.fail(call, this.closedWith);
    if (signal?.aborted) return this.fail(call, new CancelledError("aborted before the call"));
    this.calls.set(call.id, call);
    if (ms > 0) {
      call.timer = setTimeout(
        () => this.cancel(call.id, new DeadlineExceededError(`no reply within ${ms} ms`)),
        ms,
      );
    }
    if (signal) {
      const onAbort = () => this.cancel(call.id, new CancelledError("cancelled by caller"));
      signal.addEventListener("abort", onAbort, { once: true });
      call.detach = () => signal.removeEventListener("abort", onAbort);
    }
    if (call.reader || this.onWire < this.maxInFlight) this.send(call);
  }

  private send(call: Call): void {
    const remaining = call.deadline === Infinity ? 0 : Math.max(1, call.deadline - Date.now());
    try {
      call.sent = this.out({
        id: call.id,
        kind: "request",
        method: call.method,
        payload: call.payload,
        deadlineMs: Math.ceil(remaining),
        window: call.window,
      });
      if (!call.sent) this.connected = false;
      else if (!call.reader) this.onWire++;
    } catch (err) {
      // The transport refused the frame itself (too large): only this call fails.
      this.settle(call, err instanceof WireError ? err : new UnavailableError(String(err)));
    }
  }

  /** Fail the call locally and tell the server to stop working on it. */
  private cancel(id: number, err: WireError): void {
    const call = this.calls.get(id);
    if (!call) return;
    if (call.sent) this.out({ id, kind: "cancel" });
    this.settle(call, err);
  }

  private settle(call: Call, err: WireError): void {
    this.remove(call);
    this.fail(call, err);
  }

  private fail(call: Call, err: WireError): void {
    if (call.reader) call.reader.fail(err);
    else call.reject?.(err);
  }

  private remove(call: Call): void {
    if (!this.calls.delete(call.id)) return;
    if (call.timer) clearTimeout(call.timer);
    call.detach?.();
    if (call.sent) {
      call.sent = false;
      if (call.reader) return;
      this.onWire--;
      this.sendWaiting();
    }
  }
}

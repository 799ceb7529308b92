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
};

/** Where the table sends frames; returns false when there is no connection to send on. */
export type EnvelopeOut = (env: Envelope) => boolean;

type Call = {
  id: number;
  method: string;
  payload: Uint8Array;
  /** Absolute deadline in ms since the epoch, or Infinity. */
  deadline: number;
  idempotent: boolean;
  sent: boolean;
  timer: NodeJS.Timeout | undefined;
  detach: (() => void) | undefined;
} & (
  | { kind: "unary"; resolve: (b: Uint8Array) => void; reject: (e: WireError) => void }
  | { kind: "stream"; reader: StreamReader }
);

export class CallTable {
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closedWith: WireError | undefined;

  constructor(
    private readonly out: EnvelopeOut,
    private readonly defaultDeadlineMs: number,
  ) {}

  get inFlight(): number {
    return this.calls.size;
  }

  call(method: string, payload: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const ms = opts.deadlineMs ?? this.defaultDeadlineMs;
      const call: Call = {
        ...this.base(method, payload, ms, opts),
        kind: "unary",
        resolve,
        reject,
      };
      this.start(call, opts.signal, ms);
    });
  }

  stream(
    method: string,
    payload: Uint8Array,
    opts: CallOptions = {},
  ): AsyncIterableIterator<Uint8Array> {
    const ms = opts.deadlineMs ?? 0;
    const id = this.nextId;
    const reader = new StreamReader(() =>
      this.cancel(id, new CancelledError("stream closed by reader")),
    );
    const call: Call = { ...this.base(method, payload, ms, opts), kind: "stream", reader };
    this.start(call, opts.signal, ms);
    return reader;
  }

  /** A frame from the server. */
  onEnvelope(env: Envelope): void {
    const call = this.calls.get(env.id);
    if (!call) return; // a reply that crossed our cancel
    switch (env.kind) {
      case "response":
        if (call.kind === "unary") {
          this.remove(call);
          call.resolve(env.payload);
        }
        return;
      case "item":
        if (call.kind === "stream") call.reader.push(env.payload);
        return;
      case "end":
        if (call.kind === "stream") {
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

  /** A connection is up: send everything waiting, oldest first. */
  onConnected(): void {
    for (const call of this.calls.values()) if (!call.sent) this.send(call);
  }

  /** The connection dropped: fail what cannot safely be repeated, keep the rest for later. */
  onDisconnected(cause: WireError | undefined): void {
    for (const call of [...this.calls.values()]) {
      if (!call.sent) continue;
      const repeatable =
        call.idempotent && (call.kind === "unary" || call.reader.itemsReceived === 0);
      if (repeatable) {
        call.sent = false;
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

  private base(method: string, payload: Uint8Array, ms: number, opts: CallOptions) {
    return {
      id: this.nextId++,
      method,
      payload,
      deadline: ms > 0 ? Date.now() + ms : Infinity,
      idempotent: opts.idempotent ?? false,
      sent: false,
      timer: undefined,
      detach: undefined,
    };
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
    this.send(call);
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
      });
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
    if (call.kind === "unary") call.reject(err);
    else call.reader.fail(err);
  }

  private remove(call: Call): void {
    this.calls.delete(call.id);
    if (call.timer) clearTimeout(call.timer);
    call.detach?.();
  }
}

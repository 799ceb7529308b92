/**
 * The server side of one connection, without the socket: turns incoming WebSocket messages into
 * calls on registered handlers, and handler results into frames. Enforces the per-connection
 * limits (frame size, concurrent calls, deadlines) and stream backpressure. The transport hands
 * in messages and a small interface to send, measure buffering, and close.
 */
import type { Logger } from "pino";
import type { TokenFacts } from "../security/authz.js";
import type { PilotBinding } from "../security/pilot-binding.js";
import type { WireObserver } from "./observer.js";
import type { RefusalLog } from "./refusal-log.js";
import { type Envelope, decodeEnvelope, encodeEnvelope } from "./envelope.js";
import {
  CancelledError,
  DeadlineExceededError,
  FrameTooLargeError,
  InvalidArgumentError,
  MalformedFrameError,
  PermissionDeniedError,
  ResourceExhaustedError,
  TooManyCallsError,
  UnavailableError,
  UnknownMethodError,
  WireError,
  toWireError,
} from "./errors.js";
import { FrameDecoder } from "./framing.js";
import { FrameWriter } from "./frame-writer.js";
import type {
  CallContext,
  CallLog,
  MethodEntry,
  MethodRegistry,
  RoleName,
  StreamSink,
} from "./registry.js";

export type SessionTransport = {
  /** Send one binary WebSocket message. */
  send(message: Buffer): void;
  /** Bytes accepted by send() and not yet written to the network. */
  bufferedAmount(): number;
  /** End the connection because of `err` (sent as close code and reason). */
  close(err: WireError): void;
};

export type SessionLimits = {
  maxFrameSize: number;
  /** Unary calls running at once on one connection. */
  maxConcurrentCalls: number;
  /**
   * Streams open at once on one connection, apart from the calls: a client's long-lived watches
   * must not take the slots its calls need.
   */
  maxConcurrentStreams: number;
  /**
   * The connection's byte budget: request payloads of calls still running may hold at most this
   * many bytes, so concurrent calls times frame size cannot exhaust the server's memory.
   */
  maxBytesInFlight: number;
  /** Deadline of a unary call that names none. */
  defaultDeadlineMs: number;
  /** Longest deadline honoured; longer requests are cut to this. */
  maxDeadlineMs: number;
  /** A stream sink's write() waits while more than this many bytes are buffered. */
  streamHighWaterBytes: number;
};

export type PeerInfo = {
  identity: string;
  roles: ReadonlySet<RoleName>;
  limited: boolean;
  /** What the peer's pilot credential binds it to (a pilot token's claim or a pilot proxy's policy). */
  pilotBinding?: PilotBinding;
  /** Set when the peer authenticated with a bearer token: its issuer, sub, groups and scopes. */
  token?: TokenFacts;
};

type ActiveCall = {
  controller: AbortController | undefined;
  timer: NodeJS.Timeout | undefined;
  reason: WireError | undefined;
  /** Streams: items the caller will still accept (Infinity without flow control). */
  credit: number;
  /** Wakes a sink waiting for credit (on credit, or on abort). */
  wake: (() => void) | undefined;
  /** The error code the call ended with, when it did not end well. */
  failure?: string;
  /** Request payload bytes this call holds against the connection's budget. */
  bytes: number;
  /** A stream, counted against the streams' bound rather than the calls'. */
  stream: boolean;
  onFinish?: (code: string) => void;
};

const DRAIN_POLL_MS = 5;

class Context implements CallContext {
  private callLog: CallLog | undefined;

  constructor(
    private readonly peer: PeerInfo,
    private readonly call: ActiveCall,
    private readonly parentLog: () => Logger,
    readonly id: number,
    readonly method: string,
    readonly deadline: number,
  ) {}

  get identity(): string {
    return this.peer.identity;
  }
  get roles(): ReadonlySet<RoleName> {
    return this.peer.roles;
  }
  get limited(): boolean {
    return this.peer.limited;
  }
  get pilotBinding(): PilotBinding | undefined {
    return this.peer.pilotBinding;
  }
  get token(): TokenFacts | undefined {
    return this.peer.token;
  }
  // Created on first use: most handlers never look, and both cost more than the call itself.
  get signal(): AbortSignal {
    this.call.controller ??= new AbortController();
    if (this.call.reason && !this.call.controller.signal.aborted) {
      this.call.controller.abort(this.call.reason);
    }
    return this.call.controller.signal;
  }
  get aborted(): boolean {
    return this.call.reason !== undefined;
  }
  get log(): CallLog {
    this.callLog ??= new CallLines(this.parentLog, this.method, this.id);
    return this.callLog;
  }
}

/**
 * The call's lines through the connection's logger, with the method and call id first as a
 * child logger's bindings would stand: a pino child per call cost more than the line it wrote
 * (most calls that log write one line).
 */
class CallLines implements CallLog {
  constructor(
    private readonly connection: () => Logger,
    private readonly method: string,
    private readonly callId: number,
  ) {}
  debug(obj: object, msg?: string): void {
    this.write("debug", obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.write("info", obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.write("warn", obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.write("error", obj, msg);
  }
  private write(level: "debug" | "info" | "warn" | "error", obj: object, msg?: string): void {
    const log = this.connection();
    if (!log.isLevelEnabled(level)) return;
    const line = { method: this.method, callId: this.callId, ...obj };
    if (msg === undefined) log[level](line);
    else log[level](line, msg);
  }
}

export class ServerSession {
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly calls = new Map<number, ActiveCall>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private draining = false;
  private bytesInFlight = 0;
  /** Streams among the calls. */
  private streams = 0;

  constructor(
    private readonly transport: SessionTransport,
    private readonly registry: MethodRegistry,
    private readonly peer: PeerInfo,
    private readonly limits: SessionLimits,
    /** The connection's logger, made on first use (most connections never log). */
    private readonly log: () => Logger,
    private readonly observer?: WireObserver,
    /** Logs a refused call, at most once per cause every few seconds across the listener. */
    private readonly refusalLog?: RefusalLog,
  ) {
    this.decoder = new FrameDecoder(limits.maxFrameSize);
    this.writer = new FrameWriter((m) => transport.send(m), limits.maxFrameSize);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /** The pilot binding the peer authenticated with, if any (checked again on revocation). */
  get pilotBinding(): PilotBinding | undefined {
    return this.peer.pilotBinding;
  }

  /** One binary WebSocket message from the peer. */
  onMessage(data: Uint8Array): void {
    if (this.closed) return;
    const { frames, error } = this.decoder.pushMessage(data);
    if (error) {
      const err =
        error.code === "frame-too-large"
          ? new FrameTooLargeError(error.message)
          : new MalformedFrameError(error.message);
      return this.fail(err);
    }
    for (const frame of frames) {
      const decoded = decodeEnvelope(frame);
      if (!decoded.ok) return this.fail(new MalformedFrameError(decoded.reason));
      this.onEnvelope(decoded.envelope);
      if (this.closed) return;
    }
  }

  /** The connection is gone: abort every handler. */
  onClosed(reason: WireError): void {
    this.closed = true;
    this.writer.close();
    for (const id of [...this.calls.keys()]) this.abort(id, reason);
  }

  /** Resolves once no call is running (for a graceful close). */
  whenIdle(): Promise<void> {
    if (this.calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuse new calls with `unavailable` (the server is shutting down); running ones go on. */
  drain(): void {
    this.draining = true;
  }

  /** Hand queued frames to the socket now (before closing it, for instance). */
  flush(): void {
    this.writer.flush();
  }

  /** Send a connection-level error (id 0) and close. */
  fail(err: WireError): void {
    if (this.closed) return;
    this.log().warn({ code: err.code, reason: err.message }, "closing connection");
    this.send({ id: 0, kind: "error", code: err.code, message: err.message, details: {} });
    this.writer.flush();
    this.onClosed(err);
    this.transport.close(err);
  }

  private onEnvelope(env: Envelope): void {
    switch (env.kind) {
      case "request":
        return this.onRequest(env);
      case "cancel":
        // A cancel may cross the reply on the wire; an unknown id is not an error.
        if (this.calls.has(env.id)) this.abort(env.id, new CancelledError("cancelled by caller"));
        return;
      case "credit": {
        const call = this.calls.get(env.id);
        if (!call) return; // the stream ended meanwhile
        call.credit += env.items;
        call.wake?.();
        return;
      }
      default:
        return this.fail(new MalformedFrameError(`a client may not send '${env.kind}'`));
    }
  }

  private onRequest(env: Extract<Envelope, { kind: "request" }>): void {
    const { id, method } = env;
    if (id === 0 || this.calls.has(id)) {
      return this.fail(new MalformedFrameError(`request id ${id} is reserved or in use`));
    }
    if (this.draining) {
      return this.sendError(id, new UnavailableError("server is shutting down"));
    }
    const entry = this.registry.get(method);
    if (!entry) {
      // The name is the caller's: only registered names become labels.
      this.observer?.callDone("_unknown", "unknown-method", 0);
      return this.sendError(id, new UnknownMethodError(`no method '${method}'`));
    }
    if (!this.allowed(entry)) {
      this.log().info({ method }, "call refused: no matching role"); // audit trail
      this.observer?.callDone(method, "permission-denied", 0);
      return this.sendError(
        id,
        new PermissionDeniedError(`'${this.peer.identity}' may not call '${method}'`),
      );
    }
    const stream = entry.kind === "stream";
    if (stream && this.streams >= this.limits.maxConcurrentStreams) {
      return this.refuseCall(
        id,
        method,
        new TooManyCallsError(
          `more than ${this.limits.maxConcurrentStreams} streams open on one connection; ` +
            "close one (a watch) before opening another",
        ),
      );
    }
    if (!stream && this.calls.size - this.streams >= this.limits.maxConcurrentCalls) {
      return this.refuseCall(
        id,
        method,
        new TooManyCallsError(
          `more than ${this.limits.maxConcurrentCalls} calls in flight on one connection; ` +
            "wait for replies before sending more",
        ),
      );
    }
    const bytes = env.payload.length;
    if (this.bytesInFlight + bytes > this.limits.maxBytesInFlight) {
      return this.refuseCall(
        id,
        method,
        new ResourceExhaustedError(
          `calls in flight on this connection would hold more than ` +
            `${this.limits.maxBytesInFlight} request bytes; wait for replies before sending more`,
          { limit: "bytes-in-flight" },
        ),
      );
    }
    let req: unknown;
    try {
      req = entry.request.decode(env.payload);
    } catch {
      return this.sendError(id, new InvalidArgumentError(`payload of '${method}' does not decode`));
    }
    const call: ActiveCall = {
      controller: undefined,
      timer: undefined,
      reason: undefined,
      credit: env.window ? env.window : Infinity,
      wake: undefined,
      bytes,
      stream,
    };
    this.calls.set(id, call);
    if (stream) this.streams++;
    this.bytesInFlight += bytes;
    const deadline = this.startDeadline(id, call, entry.kind, env.deadlineMs);
    if (this.observer) this.observeEnd(call, method);
    const ctx = new Context(this.peer, call, this.log, id, method, deadline);
    if (entry.kind === "unary") void this.runUnary(id, call, entry, req, ctx);
    else void this.runStream(id, call, entry, req, ctx);
  }

  /** A call turned away by a per-connection limit: the caller is told, the log and metrics too. */
  private refuseCall(id: number, method: string, err: WireError): void {
    this.observer?.callDone(method, err.code, 0);
    this.refusalLog?.(
      err.code,
      { identity: this.peer.identity, method, reason: err.message },
      "call refused",
    );
    this.sendError(id, err);
  }

  /** Tell the observer how the call ended and how long it took, once it leaves the table. */
  private observeEnd(call: ActiveCall, method: string): void {
    const started = performance.now();
    call.onFinish = (code) =>
      this.observer?.callDone(method, code, (performance.now() - started) / 1000);
  }

  private allowed(entry: MethodEntry): boolean {
    for (const role of entry.roles) if (this.peer.roles.has(role)) return true;
    return false;
  }

  private startDeadline(id: number, call: ActiveCall, kind: string, requested: number): number {
    let ms = requested;
    if (ms === 0 && kind === "unary") ms = this.limits.defaultDeadlineMs;
    if (ms === 0) return Infinity;
    ms = Math.min(ms, this.limits.maxDeadlineMs);
    call.timer = setTimeout(() => {
      const err = new DeadlineExceededError(`deadline of ${ms} ms exceeded`);
      this.sendError(id, err);
      this.abort(id, err);
    }, ms);
    return Date.now() + ms;
  }

  private async runUnary(
    id: number,
    call: ActiveCall,
    entry: Extract<MethodEntry, { kind: "unary" }>,
    req: unknown,
    ctx: Context,
  ): Promise<void> {
    try {
      const res = await entry.handler(req, ctx);
      if (call.reason) return;
      this.sendPayload(id, "response", entry.response.encode(res));
    } catch (err) {
      if (!call.reason) this.sendHandlerError(id, ctx, err);
    } finally {
      this.finish(id, call);
    }
  }

  private async runStream(
    id: number,
    call: ActiveCall,
    entry: Extract<MethodEntry, { kind: "stream" }>,
    req: unknown,
    ctx: Context,
  ): Promise<void> {
    const sink: StreamSink<unknown> = {
      write: async (item) => {
        if (call.reason) throw call.reason;
        if (call.credit <= 0) await this.waitForCredit(call);
        call.credit--;
        this.sendPayload(id, "item", entry.response.encode(item));
        await this.waitForRoom(call);
      },
    };
    try {
      await entry.handler(req, sink, ctx);
      if (!call.reason) this.send({ id, kind: "end" });
    } catch (err) {
      if (!call.reason) this.sendHandlerError(id, ctx, err);
    } finally {
      this.finish(id, call);
    }
  }

  /** Backpressure: hold the stream while the socket has more than the high-water mark queued. */
  private async waitForRoom(call: ActiveCall): Promise<void> {
    const high = this.limits.streamHighWaterBytes;
    while (!call.reason && this.writer.pendingBytes + this.transport.bufferedAmount() > high) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    if (call.reason) throw call.reason;
  }

  /** Per-stream flow control: hold the stream until its consumer has taken items. */
  private async waitForCredit(call: ActiveCall): Promise<void> {
    while (!call.reason && call.credit <= 0) {
      await new Promise<void>((r) => (call.wake = r));
      call.wake = undefined;
    }
    if (call.reason) throw call.reason;
  }

  private sendPayload(id: number, kind: "response" | "item", payload: Uint8Array): void {
    const frame = encodeEnvelope({ id, kind, payload });
    if (frame.length > this.limits.maxFrameSize) {
      // The peer would close the connection over it; fail just this call instead.
      throw new FrameTooLargeError(`${kind} of ${frame.length} bytes exceeds the frame limit`);
    }
    this.writer.write(frame);
  }

  private sendHandlerError(id: number, ctx: Context, err: unknown): void {
    const wire = toWireError(err);
    const call = this.calls.get(id);
    if (call) call.failure = wire.code;
    if (wire.code === "internal") ctx.log.error({ err }, "handler failed");
    this.sendError(id, wire);
  }

  private sendError(id: number, err: WireError): void {
    this.send({
      id,
      kind: "error",
      code: err.code,
      message: err.message,
      details: { ...err.details },
    });
  }

  private send(env: Envelope): void {
    if (!this.closed) this.writer.write(encodeEnvelope(env));
  }

  private abort(id: number, reason: WireError): void {
    const call = this.calls.get(id);
    if (!call || call.reason) return;
    call.reason = reason;
    if (call.timer) clearTimeout(call.timer);
    call.controller?.abort(reason);
    call.wake?.();
    // The handler may ignore its signal; the call still leaves the table so its slot is free.
    this.finish(id, call);
  }

  private finish(id: number, call: ActiveCall): void {
    if (call.timer) clearTimeout(call.timer);
    if (this.calls.get(id) !== call) return;
    this.calls.delete(id);
    if (call.stream) this.streams--;
    this.bytesInFlight -= call.bytes;
    call.onFinish?.(call.reason?.code ?? call.failure ?? "ok");
    if (this.calls.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

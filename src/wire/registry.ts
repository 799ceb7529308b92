/**
 * What a daemon registers: methods by name, each with the roles allowed to call it, a payload
 * codec, and a handler. Transport-free, so handlers are testable with a fake context.
 */
import type { TokenFacts } from "../security/authz.js";
import type { PilotBinding } from "../security/pilot-binding.js";
import { codecOf, type Codec, type CodecSpec } from "./schema.js";

/** Roles as the security layer names them (kept as a string here so the wire has no import). */
export type RoleName = string;

export type CallContext = {
  /** Subject of the caller's end-entity certificate (proxies resolved to their owner), or a token's `<iss>#<sub>`. */
  readonly identity: string;
  readonly roles: ReadonlySet<RoleName>;
  /** True if the caller authenticated with a limited proxy. */
  readonly limited: boolean;
  /** Set when the caller is a pilot whose credential carries a binding; absent otherwise. */
  readonly pilotBinding?: PilotBinding | undefined;
  /** Set when the caller authenticated with a bearer token (issuer, sub, groups, scopes). */
  readonly token?: TokenFacts | undefined;
  readonly method: string;
  /** Absolute deadline in ms since the epoch, or Infinity for a stream without one. */
  readonly deadline: number;
  /** Aborted on cancel, deadline, or disconnect; `signal.reason` is a WireError. */
  readonly signal: AbortSignal;
  /** Whether `signal` has fired; reading this does not make the signal (a cost per call). */
  readonly aborted: boolean;
  readonly log: CallLog;
};

/** Writes one line with the call's method and id, then `obj`'s fields, then `msg`. */
export type CallLogFn = (obj: object, msg?: string) => void;

/** A call's logger: each line carries the connection's fields, the method and the call id. */
export type CallLog = {
  readonly debug: CallLogFn;
  readonly info: CallLogFn;
  readonly warn: CallLogFn;
  readonly error: CallLogFn;
};

/** How a streaming handler emits items: awaits while the connection's send buffer is full. */
export type StreamSink<T> = {
  /** Resolves once the item is queued and the buffer is below its high-water mark again. */
  write(item: T): Promise<void>;
};

export type MethodOptions<Req, Res> = {
  /** Roles allowed to call; the caller needs at least one. Empty means nobody. */
  roles: readonly RoleName[];
  /** A codec, or a message type name from updraft.proto. */
  request: CodecSpec<Req>;
  response: CodecSpec<Res>;
};

export type UnaryHandler<Req, Res> = (req: Req, ctx: CallContext) => Promise<Res> | Res;
export type StreamHandler<Req, Item> = (
  req: Req,
  sink: StreamSink<Item>,
  ctx: CallContext,
) => Promise<void> | void;

export type MethodEntry =
  | {
      kind: "unary";
      roles: ReadonlySet<RoleName>;
      request: Codec<unknown>;
      response: Codec<unknown>;
      handler: UnaryHandler<unknown, unknown>;
    }
  | {
      kind: "stream";
      roles: ReadonlySet<RoleName>;
      request: Codec<unknown>;
      response: Codec<unknown>;
      handler: StreamHandler<unknown, unknown>;
    };

/** Raw bytes in and out, for methods that do their own encoding (file transfer, benchmarks). */
export const bytesCodec: Codec<Uint8Array> = { encode: (b) => b, decode: (b) => b };

export class MethodRegistry {
  private readonly methods = new Map<string, MethodEntry>();

  get(method: string): MethodEntry | undefined {
    return this.methods.get(method);
  }

  unary<Req, Res>(
    method: string,
    opts: MethodOptions<Req, Res>,
    handler: UnaryHandler<Req, Res>,
  ): void {
    this.add(method, {
      kind: "unary",
      roles: new Set(opts.roles),
      request: codecOf(opts.request) as Codec<unknown>,
      response: codecOf(opts.response) as Codec<unknown>,
      handler: handler as UnaryHandler<unknown, unknown>,
    });
  }

  stream<Req, Item>(
    method: string,
    opts: MethodOptions<Req, Item>,
    handler: StreamHandler<Req, Item>,
  ): void {
    this.add(method, {
      kind: "stream",
      roles: new Set(opts.roles),
      request: codecOf(opts.request) as Codec<unknown>,
      response: codecOf(opts.response) as Codec<unknown>,
      handler: handler as StreamHandler<unknown, unknown>,
    });
  }

  private add(method: string, entry: MethodEntry): void {
    if (method === "" || this.methods.has(method)) {
      throw new Error(`method '${method}' is empty or already registered`);
    }
    this.methods.set(method, entry);
  }
}

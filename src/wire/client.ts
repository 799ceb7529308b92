/**
 * The RPC client: one WebSocket over mutual TLS, many concurrent calls multiplexed on it, and
 * reconnection with jittered backoff. Protocol decisions (ids, deadlines, what survives a
 * disconnect) live in CallTable; this file owns the socket and the connection lifecycle.
 */
import type { IncomingMessage } from "node:http";
import { pino, type Logger } from "pino";
import { WebSocket } from "ws";
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from "./backoff.js";
import { CallTable, type CallOptions } from "./call-table.js";
import { loadClientTls, type ClientCredentialOptions } from "./client-tls.js";
import { decodeEnvelope, encodeEnvelope, type Envelope } from "./envelope.js";
import {
  FrameTooLargeError,
  MalformedFrameError,
  UnavailableError,
  WireError,
  codeForClose,
  errorFromWire,
  isWireErrorCode,
} from "./errors.js";
import { FrameWriter } from "./frame-writer.js";
import { FrameDecoder } from "./framing.js";
import type { Codec } from "./schema.js";
import { StatusChannel, type ConnectionStatus } from "./status.js";

export type RpcClientOptions = ClientCredentialOptions & {
  /** wss://host:port/ of the server; the host must match its certificate. */
  url: string;
  /** Deadline for unary calls that name none. */
  defaultDeadlineMs?: number;
  maxFrameSize?: number;
  backoff?: Partial<BackoffOptions>;
  /** Give up on a connection attempt after this long. */
  connectTimeoutMs?: number;
  /** Drop a connection that showed no sign of life (data or ping) for this long. */
  deadPeerMs?: number;
  logger?: Logger;
};

export type RpcClient = {
  call(method: string, payload: Uint8Array, opts?: CallOptions): Promise<Uint8Array>;
  stream(
    method: string,
    payload: Uint8Array,
    opts?: CallOptions,
  ): AsyncIterableIterator<Uint8Array>;
  /** A typed unary method; `idempotent` here makes every call of it safe to repeat. */
  unaryMethod<Req, Res>(
    method: string,
    codecs: { request: Codec<Req>; response: Codec<Res>; idempotent?: boolean },
  ): (req: Req, opts?: CallOptions) => Promise<Res>;
  /** A typed streaming method. */
  streamMethod<Req, Item>(
    method: string,
    codecs: { request: Codec<Req>; response: Codec<Item> },
  ): (req: Req, opts?: CallOptions) => AsyncIterable<Item>;
  readonly status: ConnectionStatus;
  /** Every status change from now on, ending after `closed`. */
  statuses(): AsyncIterableIterator<ConnectionStatus>;
  onStatus(listener: (s: ConnectionStatus) => void): () => void;
  /** Resolves at the next `connected` (at once if connected now). */
  connected(): Promise<void>;
  /** Fail every call with `unavailable`, close the socket, stop reconnecting. */
  close(): Promise<void>;
};

export function createRpcClient(opts: RpcClientOptions): RpcClient {
  const tls = loadClientTls(opts);
  const log = (opts.logger ?? pino({ level: "silent" })).child({
    component: "wire-client",
    url: opts.url,
  });
  const maxFrameSize = opts.maxFrameSize ?? 4 * 1024 * 1024;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const deadPeerMs = opts.deadPeerMs ?? 45_000;
  const status = new StatusChannel();
  let ws: WebSocket | undefined;
  let writer: FrameWriter | undefined;
  let open = false;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let lastSeen = 0;

  const send = (env: Envelope): boolean => {
    if (!open || !writer) return false;
    const frame = encodeEnvelope(env);
    if (frame.length > maxFrameSize) {
      throw new FrameTooLargeError(`request of ${frame.length} bytes exceeds the frame limit`);
    }
    writer.write(frame);
    return true;
  };
  const table = new CallTable(send, opts.defaultDeadlineMs ?? 30_000);

  const watchdog = setInterval(
    () => {
      if (open && ws && Date.now() - lastSeen > deadPeerMs) {
        log.warn("server showed no sign of life; reconnecting");
        ws.terminate();
      }
    },
    Math.max(10, Math.min(deadPeerMs / 3, 5_000)),
  );
  watchdog.unref();

  function connect(): void {
    status.publish({ type: "connecting", attempt });
    const socket = new WebSocket(opts.url, {
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      maxPayload: maxFrameSize + 16,
      perMessageDeflate: false,
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
    });
    ws = socket;
    const decoder = new FrameDecoder(maxFrameSize);
    let cause: WireError | undefined;

    socket.on("open", () => {
      attempt = 0;
      open = true;
      lastSeen = Date.now();
      writer = new FrameWriter((m) => socket.send(m, { binary: true }), maxFrameSize);
      status.publish({ type: "connected" });
      table.onConnected();
    });
    socket.on("unexpected-response", (_req, res: IncomingMessage) => {
      cause = refusalError(res);
      log.warn({ code: cause.code, reason: cause.message }, "server refused the connection");
      // An identity problem will not fix itself between retries: fail what is waiting.
      table.failWaiting(cause);
      res.resume();
      socket.terminate();
    });
    socket.on("ping", () => {
      lastSeen = Date.now();
    });
    socket.on("message", (data: Buffer) => {
      lastSeen = Date.now();
      const { frames, error } = decoder.pushMessage(data);
      for (const frame of frames) {
        const decoded = decodeEnvelope(frame);
        if (!decoded.ok) {
          cause = new MalformedFrameError(decoded.reason);
          return socket.close(cause.closeCode, cause.code);
        }
        const env = decoded.envelope;
        if (env.id === 0 && env.kind === "error") {
          cause = errorFromWire(env.code, env.message, env.details);
        } else {
          table.onEnvelope(env);
        }
      }
      if (error) {
        cause = new MalformedFrameError(error.message);
        socket.close(cause.closeCode, cause.code);
      }
    });
    socket.on("error", (err) => {
      log.debug({ err }, "socket error");
    });
    socket.on("close", (code: number, reason: Buffer) => {
      open = false;
      writer?.close();
      writer = undefined;
      cause ??= closeError(code, reason.toString());
      table.onDisconnected(cause);
      ws = undefined;
      if (closed) return;
      if (cause?.code === "idle-timeout" && table.inFlight === 0) {
        // The server closed a quiet connection: reconnect when there is a call to make.
        log.debug("idle connection closed by the server");
        status.publish({ type: "disconnected", error: cause, retryInMs: -1 });
        return;
      }
      const delay = backoffDelay(attempt++, Math.random, backoff);
      log.info({ code, cause: cause?.code, retryInMs: delay }, "disconnected");
      status.publish({ type: "disconnected", error: cause, retryInMs: delay });
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        connect();
      }, delay);
    });
  }

  /** Start connecting if nothing is (after an idle close). */
  function wake(): void {
    if (!closed && !ws && retryTimer === undefined) connect();
  }

  connect();

  const client: RpcClient = {
    call(method, payload, o) {
      const p = table.call(method, payload, o);
      wake();
      return p;
    },
    stream(method, payload, o) {
      const s = table.stream(method, payload, o);
      wake();
      return s;
    },
    unaryMethod(method, c) {
      return async (req, o) =>
        c.response.decode(
          await client.call(method, c.request.encode(req), { idempotent: c.idempotent, ...o }),
        );
    },
    streamMethod(method, c) {
      return (req, o) => decodeItems(client.stream(method, c.request.encode(req), o), c.response);
    },
    get status() {
      return status.current;
    },
    statuses: () => status.iterate(),
    onStatus: (l) => status.on(l),
    connected() {
      if (status.current.type === "connected") return Promise.resolve();
      if (closed) return Promise.reject(new UnavailableError("client is closed"));
      return new Promise((resolve, reject) => {
        const off = status.on((s) => {
          if (s.type === "connected") resolve();
          else if (s.type === "closed") reject(new UnavailableError("client is closed"));
          else return;
          off();
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(watchdog);
      table.close(new UnavailableError("client closed"));
      const socket = ws;
      if (socket && socket.readyState !== WebSocket.CLOSED) {
        const gone = new Promise((r) => socket.once("close", r));
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else socket.close(1000, "client closing");
        const cutoff = setTimeout(() => socket.terminate(), 1000);
        await gone;
        clearTimeout(cutoff);
      }
      status.publish({ type: "closed" });
    },
  };
  return client;
}

async function* decodeItems<T>(items: AsyncIterable<Uint8Array>, codec: Codec<T>) {
  for await (const item of items) yield codec.decode(item);
}

/** The typed error behind a refused upgrade (the server names it in X-Updraft-Error). */
function refusalError(res: IncomingMessage): WireError {
  const code = String(res.headers["x-updraft-error"] ?? "");
  const reason = String(res.headers["x-updraft-reason"] ?? `HTTP ${res.statusCode}`);
  if (isWireErrorCode(code)) return errorFromWire(code, reason);
  return errorFromWire(res.statusCode === 403 ? "permission-denied" : "unauthenticated", reason);
}

function closeError(code: number, reason: string): WireError | undefined {
  const wireCode = codeForClose(code);
  if (wireCode) return errorFromWire(wireCode, reason || wireCode);
  if (code === 1000) return undefined;
  return new UnavailableError(`connection closed (${code}${reason ? `: ${reason}` : ""})`);
}

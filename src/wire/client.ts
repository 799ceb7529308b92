/**
 * The RPC client: one WebSocket over mutual TLS, many concurrent calls multiplexed on it, and
 * reconnection with jittered backoff. Protocol decisions (ids, deadlines, what survives a
 * disconnect) live in CallTable; this file owns the socket and the connection lifecycle.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { silentLogger } from "./silent-logger.js";
import { WebSocket } from "ws";
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from "./backoff.js";
import { CallTable, type CallOptions } from "./call-table.js";
import {
  loadClientCredentials,
  type ClientCredentialOptions,
  type ClientCredentials,
} from "./client-tls.js";
import { decodeEnvelope, encodeEnvelope, type Envelope } from "./envelope.js";
import {
  FrameTooLargeError,
  MalformedFrameError,
  UnauthenticatedError,
  UnavailableError,
  WireError,
  codeForClose,
  errorFromWire,
  isWireErrorCode,
} from "./errors.js";
import { FrameWriter } from "./frame-writer.js";
import { FrameDecoder } from "./framing.js";
import { parseBearerChallenge, tokenRefusalMessage } from "../security/token-refusal.js";
import { codecOf, type Codec, type CodecSpec } from "./schema.js";
import { StatusChannel, type ConnectionStatus } from "./status.js";

export type RpcClientOptions = Partial<ClientCredentialOptions> & {
  /** Credentials loaded once with loadClientCredentials; otherwise give the files or PEM. */
  credentials?: ClientCredentials;
  /** wss://host:port/ of the server; the host must match its certificate. */
  url: string;
  /** Deadline for unary calls that name none. */
  defaultDeadlineMs?: number;
  maxFrameSize?: number;
  /**
   * Calls on the wire at once (default 32, the server's default limit); more wait in the client
   * and go out as replies arrive.
   */
  maxCallsInFlight?: number;
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
    codecs: { request: CodecSpec<Req>; response: CodecSpec<Res>; idempotent?: boolean },
  ): (req: Req, opts?: CallOptions) => Promise<Res>;
  /** A typed streaming method. */
  streamMethod<Req, Item>(
    method: string,
    codecs: { request: CodecSpec<Req>; response: CodecSpec<Item> },
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
  const credentials = opts.credentials ?? loadClientCredentials(requireCaDir(opts));
  // The child logger is made on first use: building one costs more than a connection's JS work.
  let childLog: Logger | undefined;
  const log = () =>
    (childLog ??= (opts.logger ?? silentLogger()).child({
      component: "wire-client",
      url: opts.url,
    }));
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
  const table = new CallTable(send, opts.defaultDeadlineMs ?? 30_000, opts.maxCallsInFlight);

  const watchdog = setInterval(
    () => {
      if (open && ws && Date.now() - lastSeen > deadPeerMs) {
        log().warn("server showed no sign of life; reconnecting");
        ws.terminate();
      }
    },
    Math.max(10, Math.min(deadPeerMs / 3, 5_000)),
  );
  watchdog.unref();

  let expiredWith: WireError | undefined;

  function connect(): void {
    // An expired certificate will not become valid by retrying: say so once and stop.
    if (credentials.notAfter && credentials.notAfter.getTime() <= Date.now()) {
      expiredWith = new UnauthenticatedError(
        `your credential expired at ${credentials.notAfter.toISOString()}; ` +
          `${credentials.renewHint ?? "renew it"} and try again`,
        { cause: "credential-expired" },
      );
      log().error(
        { notAfter: credentials.notAfter.toISOString() },
        "credential expired; not connecting again",
      );
      table.close(expiredWith);
      status.publish({ type: "disconnected", error: expiredWith, retryInMs: -1 });
      return;
    }
    status.publish({ type: "connecting", attempt });
    // ws hands its options to tls.connect, so a prebuilt context passes through untyped.
    const wsOptions = {
      secureContext: credentials.secureContext,
      maxPayload: maxFrameSize + 16,
      perMessageDeflate: false,
      handshakeTimeout: opts.connectTimeoutMs ?? 10_000,
      ...(credentials.bearerToken
        ? { headers: { Authorization: `Bearer ${credentials.bearerToken()}` } }
        : {}),
    };
    const socket = new WebSocket(opts.url, wsOptions);
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
      log().warn({ code: cause.code, reason: cause.message }, "server refused the connection");
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
    socket.on("error", (err: Error & { code?: string }) => {
      if (err.code && SERVER_CERT_ERRORS.has(err.code)) {
        // Retrying will not make a wrong server right: fail what waits, keep trying quietly.
        cause = new UnauthenticatedError(`server certificate rejected (${err.code})`);
        log().warn({ code: err.code }, "server certificate rejected");
        table.failWaiting(cause);
        return;
      }
      log().debug({ err }, "socket error");
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
        log().debug("idle connection closed by the server");
        status.publish({ type: "disconnected", error: cause, retryInMs: -1 });
        return;
      }
      const delay = backoffDelay(attempt++, Math.random, backoff);
      log().info({ code, cause: cause?.code, retryInMs: delay }, "disconnected");
      status.publish({ type: "disconnected", error: cause, retryInMs: delay });
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        connect();
      }, delay);
    });
  }

  /** Start connecting if nothing is (after an idle close). */
  function wake(): void {
    if (!closed && !expiredWith && !ws && retryTimer === undefined) connect();
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
      const request = codecOf(c.request);
      const response = codecOf(c.response);
      return async (req, o) =>
        response.decode(
          await client.call(method, request.encode(req), { idempotent: c.idempotent, ...o }),
        );
    },
    streamMethod(method, c) {
      const request = codecOf(c.request);
      const response = codecOf(c.response);
      return (req, o) => decodeItems(client.stream(method, request.encode(req), o), response);
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

/** Node's codes for a server certificate that does not verify or does not name the host. */
const SERVER_CERT_ERRORS = new Set([
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);

function requireCaDir(opts: RpcClientOptions): ClientCredentialOptions {
  if (opts.caDir === undefined)
    throw new Error("createRpcClient: caDir or credentials is required");
  return { ...opts, caDir: opts.caDir };
}

async function* decodeItems<T>(items: AsyncIterable<Uint8Array>, codec: Codec<T>) {
  for await (const item of items) yield codec.decode(item);
}

/**
 * The typed error behind a refused upgrade (the server names it in X-Updraft-Error). A refused
 * bearer token's challenge (RFC 6750) gives the message: the check that failed and what to do,
 * in this client's own words, with the check in `details.tokenCheck`.
 */
function refusalError(res: IncomingMessage): WireError {
  const status = res.statusCode === 403 ? "permission-denied" : "unauthenticated";
  const header = res.headers["x-updraft-error"];
  const code = typeof header === "string" && isWireErrorCode(header) ? header : status;
  const reason = res.headers["x-updraft-reason"]?.toString();
  const challenge = parseBearerChallenge(res.headers["www-authenticate"]);
  if (challenge) {
    // A 401's reason repeats the challenge; a 403's names the holder's verified identity.
    const said = challenge.error === "insufficient_scope" ? reason : undefined;
    return errorFromWire(code, tokenRefusalMessage(challenge, said), {
      tokenCheck: challenge.check,
      bearerError: challenge.error,
      ...(challenge.scopes ? { scope: challenge.scopes.join(" ") } : {}),
    });
  }
  return errorFromWire(code, reason ?? `HTTP ${res.statusCode}`);
}

function closeError(code: number, reason: string): WireError | undefined {
  const wireCode = codeForClose(code);
  if (wireCode) return errorFromWire(wireCode, reason || wireCode);
  if (code === 1000) return undefined;
  return new UnavailableError(`connection closed (${code}${reason ? `: ${reason}` : ""})`);
}

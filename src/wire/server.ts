/**
 * The RPC server: HTTPS + WebSocket, with the client's certificate chain verified by us at the
 * HTTP upgrade (TLS lets every chain through because OpenSSL refuses RFC 3820 proxies). A
 * refused client gets 401/403 and never a WebSocket. Each accepted socket gets a ServerSession;
 * this file only deals with sockets, timers and the lifecycle.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import { silentLogger } from "./silent-logger.js";
import { WebSocket, WebSocketServer } from "ws";
import {
  loadTrustDir,
  refreshTrustStoreAsync,
  type CaNamespaceMode,
  type CrlExpiredMode,
  type TrustStore,
} from "../security/trust.js";
import { verifyChain, type VerifyResult } from "../security/verify.js";
import {
  isPilotBinding,
  parsePilotBinding,
  PILOT_BINDING_CLAIM,
} from "../security/pilot-binding.js";
import type { PilotRevocations } from "../security/pilot-revocations.js";
import type { TokenVerifier } from "../security/token-verify.js";
import type { TokenFacts } from "../security/authz.js";
import {
  formatBearerChallenge,
  tokenRefusalReason,
  type BearerChallenge,
  type TokenCheck,
} from "../security/token-refusal.js";
import {
  IdleTimeoutError,
  MalformedFrameError,
  UnauthenticatedError,
  UnavailableError,
  type WireError,
} from "./errors.js";
import { setLongTimeout, type LongTimer } from "./long-timer.js";
import { presentedChain } from "./peer-chain.js";
import {
  MethodRegistry,
  type MethodOptions,
  type RoleName,
  type StreamHandler,
  type UnaryHandler,
} from "./registry.js";
import type { WireObserver } from "./observer.js";
import { ServerSession, type PeerInfo, type SessionLimits } from "./server-session.js";
import { ConnectionCount, type ConnectionQuota } from "./connection-count.js";
import { createRefusalLog } from "./refusal-log.js";

/** Between a certificate's subject and a pilot id in a per-pilot proxy's identity. */
const PILOT_IDENTITY_MARK = "#pilot-";

/** Verifies a presented chain (leaf first, DER). Injected so tests and tools can replace it. */
export type ChainVerifier = (chainDer: Buffer[]) => VerifyResult;

export type ServerLimits = SessionLimits &
  ConnectionQuota & {
    /**
     * From TCP accept to an authenticated WebSocket (TLS handshake, then the upgrade request):
     * a peer that takes longer is cut off before it costs more than a socket.
     */
    handshakeTimeoutMs: number;
    /** Close a connection with no call running and no traffic for this long. */
    idleTimeoutMs: number;
    /** Ping every connection this often; one left unanswered by the next ping ends it. */
    pingIntervalMs: number;
    /** On close(), how long running calls get to finish. */
    drainTimeoutMs: number;
  };

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxFrameSize: 4 * 1024 * 1024,
  maxConcurrentCalls: 32,
  maxConcurrentStreams: 32,
  maxBytesInFlight: 32 * 1024 * 1024,
  maxConnections: 8192,
  // Pilots sharing one credential share one identity: room for a large pool's pilots.
  maxConnectionsPerIdentity: 1024,
  handshakeTimeoutMs: 10_000,
  defaultDeadlineMs: 60_000,
  maxDeadlineMs: 24 * 3_600_000,
  streamHighWaterBytes: 1024 * 1024,
  idleTimeoutMs: 10 * 60_000,
  pingIntervalMs: 15_000,
  drainTimeoutMs: 10_000,
});

export type RpcServerOptions = {
  host?: string;
  port?: number;
  /** The host certificate (PEM, chain allowed) and its key: by file or inline. */
  certFile?: string;
  keyFile?: string;
  certPem?: string;
  keyPem?: string;
  /** IGTF trust directory used by the default verifier. */
  trustDir?: string;
  /** Replaces verifyChain against trustDir. */
  verifier?: ChainVerifier;
  /**
   * Verifies `Authorization: Bearer` tokens at the upgrade; with it a client certificate is
   * optional for a peer that presents a valid token. Without it a bearer header is refused.
   */
  tokenVerifier?: TokenVerifier;
  /**
   * Pilots revoked by id: a token bound to one is refused, and connections open with one are
   * closed when the list changes.
   */
  pilotRevocations?: PilotRevocations;
  /** Accept limited proxies (default: no). */
  allowLimitedProxies?: boolean;
  /** Enforce each CA's `.signing_policy`/`.namespaces` (default) or not (`off`). */
  caNamespaces?: CaNamespaceMode;
  /** A CRL past its nextUpdate: its CA signs nothing (`refuse`, default) or is logged (`warn`). */
  crlExpired?: CrlExpiredMode;
  /** Oldest TLS version accepted (default TLS 1.3). */
  minTlsVersion?: "TLSv1.2" | "TLSv1.3";
  /** How often the trust directory is looked at again for new CRLs and CAs (default 60 s). */
  trustRecheckMs?: number;
  authorizer: {
    rolesFor(identity: string, token?: TokenFacts): ReadonlySet<RoleName>;
    /** Scopes that would give a token a role here, named in a 403's challenge. */
    scopesGranting?(token: TokenFacts): readonly string[];
  };
  limits?: Partial<ServerLimits>;
  logger?: Logger;
  /**
   * Plain HTTPS GET routes (e.g. /metrics), each open to callers holding one of its roles.
   * Anything else over plain HTTPS still gets 426.
   */
  httpRoutes?: Readonly<Record<string, HttpRoute>>;
  /** Told of every call's outcome and every refused connection (the daemon's metrics). */
  observer?: WireObserver;
};

/** A read-only HTTPS resource served beside the RPC endpoint. */
export type HttpRoute = {
  roles: readonly RoleName[];
  handler: (request: { query: URLSearchParams }) => Promise<HttpResponse>;
};

export type HttpResponse = {
  /** 200 unless the route refuses the request itself (400 for a bad query). */
  status?: number;
  contentType: string;
  body: string;
  /** Extra response headers (a page's Content-Security-Policy). */
  headers?: Readonly<Record<string, string>>;
};

export type RpcServer = {
  unary<Req, Res>(method: string, opts: MethodOptions<Req, Res>, h: UnaryHandler<Req, Res>): void;
  stream<Req, Item>(
    method: string,
    opts: MethodOptions<Req, Item>,
    h: StreamHandler<Req, Item>,
  ): void;
  listen(): Promise<AddressInfo>;
  address(): AddressInfo;
  /** wss:// URL of the listener (host as given, or 127.0.0.1 for a wildcard). */
  url(): string;
  readonly connectionCount: number;
  /** Stop accepting, let running calls finish (up to drainTimeoutMs), then close everything. */
  close(): Promise<void>;
};

type Conn = {
  ws: WebSocket;
  session: ServerSession;
  alive: boolean;
  lastActivity: number;
  expiry: LongTimer | undefined;
  /** The certificate chain it authenticated with, checked again when the trust store changes. */
  chain: Buffer[] | undefined;
  identity: string;
};

/** `cause` is the refusal's short stable name, for the refused-connections metric. */
type Refusal = {
  status: 401 | 403 | 429 | 503;
  code: string;
  /** For the log. */
  reason: string;
  cause: string;
  /** What the peer is told, when it must not learn the reason (an unauthenticated peer). */
  peerReason?: string;
  /** A bearer token's refusal, answered as RFC 6750's `WWW-Authenticate` challenge. */
  bearer?: BearerChallenge;
};

/**
 * A refused bearer token: the peer is told which check failed, by a fixed word in the challenge
 * and a fixed sentence in the reason; the log gets the verifier's detailed reason.
 */
function tokenRefusal(check: TokenCheck, reason: string, cause = `token-${check}`): Refusal {
  const bearer: BearerChallenge = { error: "invalid_token", check };
  return {
    status: 401,
    code: "unauthenticated",
    reason,
    cause,
    peerReason: tokenRefusalReason(bearer),
    bearer,
  };
}

/** A valid token whose holder has no role here (403): the scopes that would give one, if any. */
function tokenRoleRefusal(reason: string, cause: string, scopes: readonly string[]): Refusal {
  return {
    status: 403,
    code: "permission-denied",
    reason,
    cause,
    bearer: {
      error: "insufficient_scope",
      check: scopes.length > 0 ? "scope" : "role",
      ...(scopes.length > 0 ? { scopes } : {}),
    },
  };
}

const GENERIC_REFUSAL =
  "the client credential was not accepted; check that it is valid and issued by a CA this " +
  "server trusts (the server's log has the reason)";

type AcceptedPeer = PeerInfo & { notAfter: Date; chain?: Buffer[] };

export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const limits: ServerLimits = Object.freeze({ ...DEFAULT_SERVER_LIMITS, ...opts.limits });
  const log = (opts.logger ?? silentLogger()).child({ component: "wire-server" });
  const registry = new MethodRegistry();
  const trusted = opts.verifier ? undefined : defaultVerifier(opts, log);
  const verifier: ChainVerifier = opts.verifier ?? trusted!.verify;

  /**
   * A new trust store (a CRL that now revokes someone, a CA removed) reaches connections already
   * open: each certificate connection's chain is verified again and closed if it no longer holds.
   */
  function recheckTrust(): Promise<void> | undefined {
    recheckRevokedPilots();
    // Undefined when no reload is due: the caller goes on at once, on the store it has.
    const reloading = trusted?.recheck();
    if (!reloading) return undefined;
    return reloading.then(
      (changed) => {
        if (changed) closeNoLongerAccepted();
      },
      (err: unknown) => log.error({ err }, "trust directory reload failed"),
    );
  }
  function closeNoLongerAccepted(): void {
    for (const c of conns) {
      if (!c.chain) continue;
      const r = verifier(c.chain);
      if (r.ok) continue;
      const identity = c.identity;
      log.info(
        { identity, code: r.code, reason: r.reason },
        "credential no longer accepted; closing",
      );
      c.session.fail(new UnauthenticatedError(`credential no longer accepted: ${r.reason}`));
    }
  }
  /** A newly revoked pilot's connections close at once, as a revoked certificate's do. */
  function recheckRevokedPilots(): void {
    const revoked = opts.pilotRevocations;
    if (!revoked?.recheck()) return;
    for (const c of conns) {
      const pilot = c.session.pilotBinding?.pilotId;
      if (pilot === undefined || !revoked.isRevoked(pilot)) continue;
      log.info({ identity: c.identity, pilot }, "pilot revoked; closing its connection");
      c.session.fail(new UnauthenticatedError(`pilot ${pilot} is revoked`));
    }
  }
  const conns = new Set<Conn>();
  const counted = new ConnectionCount(limits);
  const logRefusal = createRefusalLog(log);
  let closing = false;

  const https: Server = createServer(
    {
      cert: opts.certPem ?? readFileSync(required(opts.certFile, "certFile")),
      key: opts.keyPem ?? readFileSync(required(opts.keyFile, "keyFile")),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: opts.minTlsVersion ?? "TLSv1.3",
      handshakeTimeout: limits.handshakeTimeoutMs,
    },
    (req, res) => {
      clearPreauthTimer(req.socket);
      void serveHttp(req, res);
    },
  );
  // Sockets not yet authenticated have their own allowance beside the authenticated ones; past
  // both, the kernel's accept is answered with a close (Node's maxConnections, 'drop' below).
  https.maxConnections = limits.maxConnections + Math.min(1024, limits.maxConnections);
  https.on("drop", () => {
    opts.observer?.refused("socket-limit");
    logRefusal("socket-limit", {}, "connection dropped: the listener holds its maximum of sockets");
  });

  // A TLS session that does not reach an upgrade (or a GET) within the handshake timeout ends.
  const preauthTimers = new WeakMap<object, NodeJS.Timeout>();
  function clearPreauthTimer(socket: object): void {
    const t = preauthTimers.get(socket);
    if (t) clearTimeout(t);
    preauthTimers.delete(socket);
  }
  // Every ws frame limit is ours: one message may hold several frames up to the frame limit.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameSize + 16,
    perMessageDeflate: false,
  });

  function authenticate(socket: TLSSocket): AcceptedPeer | Refusal {
    const chain = presentedChain(socket);
    if (chain.length === 0) {
      return {
        status: 401,
        code: "unauthenticated",
        reason: "no client certificate",
        cause: "no-certificate",
      };
    }
    const result = verifier(chain);
    if (!result.ok) {
      // The peer is told only that it was refused; which check failed goes to the log.
      return {
        status: 401,
        code: "unauthenticated",
        reason: result.reason,
        cause: result.code,
        peerReason: GENERIC_REFUSAL,
      };
    }
    if (result.limited && !opts.allowLimitedProxies) {
      return {
        status: 401,
        code: "unauthenticated",
        reason: "limited proxies are not accepted",
        cause: "limited-proxy",
      };
    }
    // `<subject>#pilot-<id>` names a per-pilot proxy's pilot (below): a certificate whose own
    // subject reads so could pass as that pilot, and hold its leases and slots.
    if (result.identity.includes(PILOT_IDENTITY_MARK)) {
      return {
        status: 401,
        code: "unauthenticated",
        reason: `'${result.identity}' contains '${PILOT_IDENTITY_MARK}', which only names per-pilot proxies' pilots`,
        cause: "bad-subject",
        peerReason: GENERIC_REFUSAL,
      };
    }
    // A per-pilot proxy names its pilot in its policy: revoked by id as a pilot token is.
    const pilotBinding = result.pilotBinding;
    const pilotId = pilotBinding?.pilotId;
    if (pilotId !== undefined && opts.pilotRevocations?.isRevoked(pilotId)) {
      return {
        status: 401,
        code: "unauthenticated",
        reason: `proxy revoked: pilot ${pilotId} is revoked`,
        cause: "revoked",
        peerReason: GENERIC_REFUSAL,
      };
    }
    const roles = opts.authorizer.rolesFor(result.identity);
    if (roles.size === 0) {
      return {
        status: 403,
        code: "permission-denied",
        reason: `'${result.identity}' has no role here`,
        cause: "no-role",
      };
    }
    return {
      // Per-pilot proxies of one certificate share its subject: each pilot is its own identity
      // (as a pilot token's `<iss>#pilot-<id>` is), so leases and Slot ads are held per pilot.
      // Roles still come from the subject.
      identity:
        pilotId !== undefined
          ? `${result.identity}${PILOT_IDENTITY_MARK}${pilotId}`
          : result.identity,
      roles,
      limited: result.limited,
      notAfter: result.notAfter,
      chain,
      ...(pilotBinding ? { pilotBinding } : {}),
    };
  }

  // The identity is settled once, at the upgrade; a TLS 1.2 renegotiation must not swap the
  // certificate underneath an accepted connection.
  https.on("secureConnection", (socket: TLSSocket) => {
    socket.disableRenegotiation();
    const timer = setTimeout(() => {
      preauthTimers.delete(socket);
      opts.observer?.refused("preauth-timeout");
      logRefusal(
        "preauth-timeout",
        { remote: socket.remoteAddress },
        `no upgrade within ${limits.handshakeTimeoutMs} ms of the TLS handshake; closed`,
      );
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    timer.unref();
    preauthTimers.set(socket, timer);
    socket.once("close", () => clearPreauthTimer(socket));
  });

  // Failed TLS handshakes (wrong protocol, scanners): Node drops the socket; note it quietly.
  https.on("tlsClientError", (err: Error & { code?: string }, socket: TLSSocket) => {
    log.debug({ code: err.code, remote: socket.remoteAddress }, "TLS handshake failed");
    const timedOut = err.code === "ERR_TLS_HANDSHAKE_TIMEOUT";
    opts.observer?.refused(timedOut ? "preauth-timeout" : "tls-handshake");
    if (timedOut) {
      logRefusal(
        "preauth-timeout",
        { remote: socket.remoteAddress },
        `TLS handshake not done within ${limits.handshakeTimeoutMs} ms; closed`,
      );
    }
  });

  https.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    // Token checks may wait on an issuer's keys: the timer runs until the socket is handed over.
    socket.once("close", () => clearPreauthTimer(req.socket));
    if (closing) {
      return refuse(
        socket,
        { status: 503, code: "unavailable", reason: "server is closing", cause: "closing" },
        remote,
      );
    }
    const bearer = bearerOf(req);
    if (bearer !== undefined) {
      authenticateToken(bearer).then(
        (outcome) => {
          if ("status" in outcome) return refuse(socket, outcome, remote);
          if (closing || socket.destroyed) return socket.destroy();
          upgrade(req, socket, head, outcome, remote);
        },
        (err: unknown) => {
          log.error({ err, remote }, "token verification failed unexpectedly");
          refuse(socket, tokenRefusal("unverifiable", "token could not be verified"), remote);
        },
      );
      return;
    }
    const certUpgrade = () => {
      if (closing || socket.destroyed) return socket.destroy();
      const outcome = authenticateSocket(req.socket as TLSSocket, remote);
      if ("status" in outcome) return refuse(socket, outcome, remote);
      upgrade(req, socket, head, outcome, remote);
    };
    // A trust reload that is due runs first (its reads do not block), so a new CRL counts.
    const reloading = recheckTrust();
    if (reloading) void reloading.then(certUpgrade);
    else certUpgrade();
  });

  /** An authenticated peer becomes a connection if the connection limits leave it room. */
  function upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    peer: AcceptedPeer,
    remote: string,
  ): void {
    const admission = counted.admit(peer.identity);
    if (!admission.ok) {
      const status = admission.cause === "connection-limit" ? 503 : 429;
      return refuse(
        socket,
        { status, code: "resource-exhausted", reason: admission.reason, cause: admission.cause },
        remote,
      );
    }
    clearPreauthTimer(req.socket);
    let released = false;
    const release = () => {
      if (!released) counted.release(peer.identity);
      released = true;
    };
    socket.once("close", release);
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, peer, remote));
  }

  // A chain check that throws is a refusal for that peer, never a crash of the listener.
  function authenticateSocket(socket: TLSSocket, remote: string): AcceptedPeer | Refusal {
    try {
      return authenticate(socket);
    } catch (err) {
      log.error({ err, remote }, "chain verification failed unexpectedly");
      return {
        status: 401,
        code: "unauthenticated",
        reason: "chain could not be verified",
        cause: "chain-unverifiable",
      };
    }
  }

  // Plain HTTPS: only the configured GET routes, authenticated like an upgrade, plus a role.
  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = "", search = ""] = (req.url ?? "").split("?", 2);
    const route = Object.hasOwn(opts.httpRoutes ?? {}, path) ? opts.httpRoutes?.[path] : undefined;
    if (!route) return refusePlainHttp(req, res);
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plainRefusal(res, 405, "method-not-allowed", "only GET is served here", {
        Allow: "GET, HEAD",
      });
    }
    // A GET carries no body; one that announces a body is refused before it is read.
    if (req.headers["content-length"] && req.headers["content-length"] !== "0") {
      return plainRefusal(res, 400, "bad-request", "a GET has no body");
    }
    if (closing) return plainRefusal(res, 503, "unavailable", "server is closing");
    // A bearer token is checked as at the upgrade; without one, the client certificate.
    const bearer = bearerOf(req);
    let outcome: AcceptedPeer | Refusal;
    try {
      outcome =
        bearer !== undefined
          ? await authenticateToken(bearer)
          : authenticateSocket(req.socket as TLSSocket, remote);
    } catch (err) {
      log.error({ err, remote }, "token verification failed unexpectedly");
      outcome = tokenRefusal("unverifiable", "token could not be verified");
    }
    if ("status" in outcome) {
      logRefusal(
        outcome.cause,
        { remote, code: outcome.code, reason: outcome.reason },
        "HTTP request refused",
      );
      opts.observer?.refused(outcome.cause);
      return plainRefusal(
        res,
        outcome.status,
        outcome.code,
        outcome.peerReason ?? outcome.reason,
        challengeHeader(outcome.bearer),
      );
    }
    const roles = outcome.roles;
    if (!route.roles.some((r) => roles.has(r))) {
      const reason = `'${outcome.identity}' lacks role ${route.roles.join(" or ")} for ${path}`;
      log.warn({ remote, code: "permission-denied", reason }, "HTTP request refused");
      opts.observer?.refused("lacks-role");
      const bearer = outcome.token
        ? ({ error: "insufficient_scope", check: "role" } as const)
        : undefined;
      return plainRefusal(res, 403, "permission-denied", reason, challengeHeader(bearer));
    }
    try {
      const { status, contentType, body, headers } = await route.handler({
        query: new URLSearchParams(search),
      });
      res.writeHead(status ?? 200, {
        ...headers,
        "Content-Type": contentType,
        "Content-Length": Buffer.byteLength(body),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (err) {
      log.error({ err, path }, "HTTP route failed");
      plainRefusal(res, 500, "internal", "the resource could not be produced");
    }
  }

  /**
   * A bearer token, verified. The peer is told the failed check by its fixed name (the log gets
   * the verifier's reason), never the token or its claims.
   */
  async function authenticateToken(token: string): Promise<AcceptedPeer | Refusal> {
    if (!opts.tokenVerifier) {
      return tokenRefusal(
        "unsupported",
        "token: this service takes no bearer tokens",
        "token-not-accepted",
      );
    }
    const v = await opts.tokenVerifier.verify(token);
    recheckRevokedPilots();
    if (!v.ok) return tokenRefusal(v.code, `token ${v.code}: ${v.reason}`);
    let pilotBinding: PeerInfo["pilotBinding"];
    const claim = v.claims.payload[PILOT_BINDING_CLAIM];
    if (claim !== undefined) {
      const b = parsePilotBinding(claim);
      if (!isPilotBinding(b)) return tokenRefusal("malformed", `token malformed: ${b.error}`);
      pilotBinding = b;
      if (b.pilotId !== undefined && opts.pilotRevocations?.isRevoked(b.pilotId)) {
        return tokenRefusal("revoked", `token revoked: pilot ${b.pilotId} is revoked`);
      }
    }
    const identity = v.claims.identity;
    const facts: TokenFacts = {
      issuer: v.claims.iss,
      sub: v.claims.sub,
      groups: v.claims.groups,
      scopes: v.claims.scopes,
    };
    const roles = opts.authorizer.rolesFor(identity, facts);
    if (roles.size === 0) {
      return tokenRoleRefusal(
        `'${identity}' has no role here`,
        "no-role",
        opts.authorizer.scopesGranting?.(facts) ?? [],
      );
    }
    return {
      identity,
      roles,
      limited: false,
      // Closed when the verifier would stop accepting it, so a reconnect cannot loop on a
      // token that is past exp but within the leeway.
      notAfter: new Date(v.claims.acceptedUntilMs),
      token: facts,
      ...(pilotBinding ? { pilotBinding } : {}),
    };
  }

  function refuse(socket: Duplex, r: Refusal, remote: string): void {
    // The reason names the failed check, never certificate contents beyond the subject.
    logRefusal(r.cause, { remote, code: r.code, reason: r.reason }, "connection refused");
    opts.observer?.refused(r.cause);
    const text = STATUS_TEXT[r.status];
    const challenge = r.bearer ? `WWW-Authenticate: ${formatBearerChallenge(r.bearer)}\r\n` : "";
    socket.end(
      `HTTP/1.1 ${r.status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n` +
        `X-Updraft-Error: ${r.code}\r\nX-Updraft-Reason: ${headerSafe(r.peerReason ?? r.reason)}\r\n` +
        `${challenge}\r\n`,
      () => socket.destroy(), // do not wait for a refused peer to hang up
    );
  }

  function accept(ws: WebSocket, peer: AcceptedPeer, remote: string): void {
    let child: Logger | undefined;
    const connLog = () => (child ??= log.child({ remote, identity: peer.identity }));
    const transport = {
      send: (m: Buffer) => ws.send(m, { binary: true }),
      bufferedAmount: () => ws.bufferedAmount,
      close: (err: WireError) => ws.close(err.closeCode, err.code),
    };
    const session = new ServerSession(
      transport,
      registry,
      peer,
      limits,
      connLog,
      opts.observer,
      logRefusal,
    );
    const conn: Conn = {
      ws,
      session,
      alive: true,
      lastActivity: Date.now(),
      expiry: undefined,
      chain: peer.chain,
      identity: peer.identity,
    };
    conns.add(conn);
    if (log.isLevelEnabled("debug")) connLog().debug("connection accepted");
    conn.expiry = setLongTimeout(
      () => session.fail(new UnauthenticatedError("client credential expired")),
      peer.notAfter.getTime() - Date.now(),
    );
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      conn.lastActivity = Date.now();
      conn.alive = true; // traffic proves the peer alive as well as a pong does
      if (!isBinary) return session.fail(new MalformedFrameError("text message"));
      session.onMessage(data);
    });
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("error", (err) => connLog().debug({ err }, "socket error"));
    ws.on("close", (code: number) => {
      conns.delete(conn);
      conn.expiry?.cancel();
      session.onClosed(new UnavailableError("connection closed"));
      if (log.isLevelEnabled("debug")) connLog().debug({ code }, "connection closed");
    });
  }

  // One timer for all connections: pings find dead peers, the idle check frees quiet ones.
  const sweepMs = Math.max(10, Math.min(limits.pingIntervalMs, limits.idleTimeoutMs / 4));
  let lastPing = Date.now();
  const sweeper = setInterval(() => {
    void recheckTrust();
    const now = Date.now();
    const pingDue = now - lastPing >= limits.pingIntervalMs;
    if (pingDue) lastPing = now;
    for (const conn of conns) {
      if (pingDue) {
        if (!conn.alive) {
          log.info({ identity: "peer" }, "peer stopped answering pings; dropping it");
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        conn.ws.ping();
      }
      if (conn.session.activeCalls === 0 && now - conn.lastActivity > limits.idleTimeoutMs) {
        conn.session.fail(new IdleTimeoutError(`no call for ${limits.idleTimeoutMs} ms`));
      }
    }
  }, sweepMs);
  sweeper.unref();

  let bound: AddressInfo | undefined;

  return {
    unary: (method, o, h) => registry.unary(method, o, h),
    stream: (method, o, h) => registry.stream(method, o, h),
    get connectionCount() {
      return conns.size;
    },
    listen() {
      return new Promise((resolve, reject) => {
        https.once("error", reject);
        https.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
          https.off("error", reject);
          bound = https.address() as AddressInfo;
          log.info({ address: bound.address, port: bound.port }, "listening");
          resolve(bound);
        });
      });
    },
    address() {
      if (!bound) throw new Error("server is not listening");
      return bound;
    },
    url() {
      const a = this.address();
      const host = a.address === "0.0.0.0" || a.address === "::" ? "127.0.0.1" : a.address;
      return `wss://${a.family === "IPv6" && host !== "127.0.0.1" ? `[${host}]` : host}:${a.port}/`;
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(sweeper);
      // New upgrades are refused from here on (503). The listener closes last: Node's
      // server.close() also ends connections it thinks idle, upgraded WebSockets included.
      for (const c of conns) c.session.drain();
      await withTimeout(
        Promise.all([...conns].map((c) => c.session.whenIdle())),
        limits.drainTimeoutMs,
      );
      const gone = [...conns].map((c) => new Promise((r) => c.ws.once("close", r)));
      for (const c of conns) {
        c.session.flush(); // replies of calls that just finished are still queued
        c.ws.close(1001, "server shutting down");
      }
      // A peer that does not answer the close handshake is cut off.
      if (!(await withTimeout(Promise.all(gone), 1000))) {
        for (const c of conns) c.ws.terminate();
      }
      await new Promise<void>((r) => {
        https.close(() => r());
        https.closeAllConnections();
      });
      wss.close();
    },
  };
}

/** True if `p` settled within `ms`. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const done = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return done;
}

/** How often the trust directory is looked at again for new CAs and CRLs. */
const TRUST_RECHECK_MS = 60_000;

interface TrustVerifier {
  verify: ChainVerifier;
  /**
   * Look at the directory again if due (undefined when not): resolves true when a new store
   * replaced the old one. The reads do not block; one reload runs at a time.
   */
  recheck(): Promise<boolean> | undefined;
}

/**
 * Verifies against the trust directory, reloading it when its files changed (a CRL update, a
 * new CA) at most once per recheck interval; a directory that cannot be read then keeps the
 * store already loaded.
 */
function defaultVerifier(opts: RpcServerOptions, log: Logger): TrustVerifier {
  const dir = required(opts.trustDir, "trustDir");
  let trust = loadTrustDir(dir, { caNamespaces: opts.caNamespaces, crlExpired: opts.crlExpired });
  for (const p of trust.problems) log.warn({ problem: p }, "trust directory");
  const warnedExpired = new Set<string>();
  const warnExpiredCrls = () => {
    for (const e of expiredCrls(trust, new Date())) {
      if (warnedExpired.has(e.source)) continue;
      warnedExpired.add(e.source);
      log.warn(
        { crl: e.source, nextUpdate: e.nextUpdate.toISOString(), mode: trust.crlExpired },
        trust.crlExpired === "refuse"
          ? "CRL expired: its CA signs nothing until fetch-crl brings a new one"
          : "CRL expired: still used (tls.crl_expired: warn); run fetch-crl",
      );
    }
  };
  warnExpiredCrls();
  let checkedAt = Date.now();
  let pending: Promise<boolean> | undefined;
  const allowLimited = opts.allowLimitedProxies ?? false;
  return {
    verify: (chain) => verifyChain(chain, trust, { allowLimited }),
    recheck() {
      if (pending) return pending;
      if (Date.now() - checkedAt < (opts.trustRecheckMs ?? TRUST_RECHECK_MS)) return undefined;
      warnExpiredCrls();
      checkedAt = Date.now();
      pending = refreshTrustStoreAsync(trust).then((r) => {
        pending = undefined;
        checkedAt = Date.now();
        if (r.error) {
          log.warn({ err: r.error }, "trust directory unreadable; keeping the loaded one");
        }
        if (r.store === trust) return false;
        trust = r.store;
        log.info({ dir, cas: trust.cas.size, crls: trust.crls.size }, "trust directory reloaded");
        for (const p of trust.problems) log.warn({ problem: p }, "trust directory");
        warnExpiredCrls();
        return true;
      });
      return pending;
    },
  };
}

/** CRLs of the store whose nextUpdate has passed. */
function expiredCrls(trust: TrustStore, now: Date): { source: string; nextUpdate: Date }[] {
  const out: { source: string; nextUpdate: Date }[] = [];
  for (const list of trust.crls.values()) {
    for (const t of list) {
      if (t.crl.nextUpdate && t.crl.nextUpdate < now) {
        out.push({ source: t.source, nextUpdate: t.crl.nextUpdate });
      }
    }
  }
  return out;
}

function required(v: string | undefined, name: string): string {
  if (v === undefined) throw new Error(`createRpcServer: ${name} is required`);
  return v;
}

const STATUS_TEXT: Record<Refusal["status"], string> = {
  401: "Unauthorized",
  403: "Forbidden",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

function plainRefusal(
  res: ServerResponse,
  status: number,
  code: string,
  reason: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "Content-Type": "text/plain",
    Connection: "close",
    "X-Updraft-Error": code,
    "X-Updraft-Reason": headerSafe(reason),
    ...extra,
  });
  res.end(`${code}: ${headerSafe(reason)}\n`);
}

/** RFC 6750's challenge for a refused bearer token, as response headers. */
function challengeHeader(bearer: BearerChallenge | undefined): Record<string, string> {
  return bearer ? { "WWW-Authenticate": formatBearerChallenge(bearer) } : {};
}

function refusePlainHttp(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { "Content-Type": "text/plain", Connection: "close" });
  res.end("this endpoint speaks the Updraft protocol over WebSocket\n");
}

/** The token of an `Authorization: Bearer` header, if the request has one. */
function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== "string") return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  return m ? m[1] : "";
}

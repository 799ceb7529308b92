/**
 * Shared setup for the wire's integration tests: a real server on port 0 with the test PKI,
 * a few methods that exercise the protocol, and clients with the fixture's credentials.
 */
import { readFileSync } from "node:fs";
import { after, before } from "node:test";
import pino, { type Logger } from "pino";
import { WebSocket } from "ws";
import { createAuthorizer } from "../../src/security/authz.js";
import { readCredentialFile } from "../../src/security/credential-file.js";
import { decodeEnvelope, encodeEnvelope, type Envelope } from "../../src/wire/envelope.js";
import { FrameDecoder, joinFrames } from "../../src/wire/framing.js";
import { bytesCodec, type CallContext } from "../../src/wire/registry.js";
import { createRpcClient, type RpcClient, type RpcClientOptions } from "../../src/wire/client.js";
import { createRpcServer, type RpcServer, type RpcServerOptions } from "../../src/wire/server.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

export { createTestPki, type TestPki };

/** What the test methods saw, so tests can assert on the server side. */
export type Observed = {
  contexts: CallContext[];
  aborted: unknown[];
  itemsWritten: number;
};

export type TestServer = { server: RpcServer; observed: Observed; url: string };

export async function startServer(
  pki: TestPki,
  overrides: Partial<RpcServerOptions> = {},
): Promise<TestServer> {
  const observed: Observed = { contexts: [], aborted: [], itemsWritten: 0 };
  const server = createRpcServer({
    certFile: pki.host.certFile,
    keyFile: pki.host.keyFile,
    trustDir: pki.caDir,
    authorizer: createAuthorizer({
      rules: [{ identity: "/DC=org/DC=example/CN=Alice", roles: ["user"] }],
      default_roles: ["read"],
    }),
    ...overrides,
  });
  const bytes = { request: bytesCodec, response: bytesCodec };
  server.unary("test.Echo", { roles: ["user", "read"], ...bytes }, (req, ctx) => {
    observed.contexts.push(ctx);
    return req;
  });
  server.unary("test.WhoAmI", { roles: ["user", "read"], ...bytes }, (_req, ctx) =>
    Buffer.from(JSON.stringify({ identity: ctx.identity, roles: [...ctx.roles] })),
  );
  server.unary("test.AdminOnly", { roles: ["admin"], ...bytes }, () => Buffer.from("secret"));
  // Waits until its signal fires: for deadlines, cancellation and concurrency limits.
  server.unary("test.Hang", { roles: ["user", "read"], ...bytes }, (_req, ctx) => {
    observed.contexts.push(ctx);
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => {
        observed.aborted.push(ctx.signal.reason);
        reject(ctx.signal.reason);
      });
    });
  });
  // Streams `n` (first payload byte) numbered items.
  server.stream("test.Count", { roles: ["user", "read"], ...bytes }, async (req, sink) => {
    const n = req[0] ?? 0;
    for (let i = 0; i < n; i++) await sink.write(Buffer.from([i]));
  });
  // Stays open, writing nothing, until cancelled: a watch with nothing to report.
  server.stream("test.Quiet", { roles: ["user", "read"], ...bytes }, (_req, _sink, ctx) => {
    observed.contexts.push(ctx);
    return new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
  });
  // Streams 64 KiB items until cancelled: for backpressure.
  server.stream("test.Flood", { roles: ["user", "read"], ...bytes }, async (_req, sink, ctx) => {
    const item = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) {
        await sink.write(item);
        observed.itemsWritten++;
      }
    } finally {
      observed.aborted.push(ctx.signal.reason);
    }
  });
  await server.listen();
  return { server, observed, url: `wss://localhost:${server.address().port}/` };
}

/**
 * One test PKI and one server for a whole test file: made before its first test, closed after
 * its last. Read `world.pki` and `world.ts` inside the tests (they are set once `before` ran).
 */
export function serverPerFile(overrides: Partial<RpcServerOptions> = {}): {
  pki: TestPki;
  ts: TestServer;
} {
  const world = {} as { pki: TestPki; ts: TestServer };
  before(async () => {
    world.pki = createTestPki();
    world.ts = await startServer(world.pki, overrides);
  });
  after(async () => {
    await world.ts.server.close();
    world.pki.cleanup();
  });
  return world;
}

export function connect(
  ts: TestServer | string,
  pki: TestPki,
  opts: Partial<RpcClientOptions> = {},
): RpcClient {
  const url = typeof ts === "string" ? ts : ts.url;
  return createRpcClient({
    url,
    credentialFile: pki.proxy.file,
    caDir: pki.caDir,
    backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
    ...opts,
  });
}

/** Resolves when `check` holds, polling; rejects after `ms` so a broken test cannot hang. */
export async function eventually(
  check: () => boolean,
  ms = 5_000,
  what = "condition",
  pollMs = 5,
): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** A bare WebSocket with the fixture's proxy, for sending what a well-behaved client would not. */
export type RawPeer = {
  ws: WebSocket;
  /** Frames the server sent, decoded, in order. */
  received: Envelope[];
  sendEnvelopes(envs: Envelope[]): void;
  /** Resolves with the first received envelope matching `pred` (5 s limit). */
  waitFor(pred: (e: Envelope) => boolean, what?: string): Promise<Envelope>;
  closed: Promise<{ code: number; reason: string }>;
};

export async function rawPeer(
  ts: TestServer,
  pki: TestPki,
  opts: { autoPong?: boolean } = {},
): Promise<RawPeer> {
  const cred = readCredentialFile(readFileSync(pki.proxy.file, "latin1"));
  const ws = new WebSocket(ts.url, {
    cert: cred.chainPem.join(""),
    key: cred.keyPem,
    ca: readFileSync(pki.caCertFile, "latin1"),
    autoPong: opts.autoPong ?? true,
  });
  const received: Envelope[] = [];
  const decoder = new FrameDecoder(1 << 24);
  ws.on("message", (data: Buffer) => {
    for (const f of decoder.push(data).frames) {
      const d = decodeEnvelope(f);
      if (d.ok) received.push(d.envelope);
    }
  });
  ws.on("error", () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", () => reject(new Error("upgrade refused")));
  });
  return {
    ws,
    received,
    closed,
    sendEnvelopes: (envs) => ws.send(joinFrames(envs.map(encodeEnvelope))),
    async waitFor(pred, what = "envelope") {
      await eventually(() => received.some(pred), 5_000, what);
      return received.find(pred)!;
    },
  };
}

/** A logger whose JSON lines are kept, to check what a server logged (refusal reasons). */
export function captureLog(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(s) });
  return { logger, text: () => lines.join("") };
}

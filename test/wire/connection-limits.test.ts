/**
 * Limits on a wire listener: connections per identity and in total, the time a socket may take to
 * authenticate, and the request bytes one connection may hold in running calls. Each refusal is
 * clear to the client and counted by cause.
 */
import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { ResourceExhaustedError } from "../../src/wire/errors.js";
import type { WireObserver } from "../../src/wire/observer.js";
import type { RpcClient } from "../../src/wire/client.js";
import type { ServerLimits } from "../../src/wire/server.js";
import {
  connect,
  createTestPki,
  eventually,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

let pki: TestPki;
const refusedBy: string[] = [];
const observer: WireObserver = { callDone: () => undefined, refused: (c) => refusedBy.push(c) };
const servers: TestServer[] = [];
const clients: RpcClient[] = [];

before(() => {
  pki = createTestPki();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.server.close()));
  pki.cleanup();
});

async function server(limits: Partial<ServerLimits>): Promise<TestServer> {
  const ts = await startServer(pki, { limits, observer });
  servers.push(ts);
  return ts;
}

function client(ts: TestServer, opts: Parameters<typeof connect>[2] = {}): RpcClient {
  const c = connect(ts, pki, opts);
  clients.push(c);
  return c;
}

const echo = async (c: RpcClient, text: string) =>
  Buffer.from(await c.call("test.Echo", Buffer.from(text))).toString();

test("one identity cannot hold more connections than its limit; others still get in", async () => {
  const ts = await server({ maxConnectionsPerIdentity: 2 });
  const [a, b] = [client(ts), client(ts)];
  assert.equal(await echo(a, "a"), "a");
  assert.equal(await echo(b, "b"), "b");
  const third = client(ts);
  const err = await third.call("test.Echo", Buffer.from("c")).catch((e: unknown) => e);
  assert.ok(err instanceof ResourceExhaustedError, String(err));
  assert.match(err.message, /already holds 2 connections/);
  assert.ok(refusedBy.includes("identity-connection-limit"));
  assert.equal(ts.server.connectionCount, 2);
  // Another identity is not held back by Alice's connections.
  const bob = pki.issueUser("/DC=org/DC=example/CN=Bob");
  const other = client(ts, { credentialFile: undefined, certPem: bob.certPem, keyPem: bob.keyPem });
  assert.equal(await echo(other, "bob"), "bob");
  // A slot given back can be taken again.
  await a.close();
  await eventually(() => ts.server.connectionCount === 2, 5_000, "a's slot freed");
  await third.close();
  const fourth = client(ts);
  assert.equal(await echo(fourth, "d"), "d");
});

test("past the listener's total, a new connection is refused with resource-exhausted", async () => {
  const ts = await server({ maxConnections: 1 });
  const first = client(ts);
  assert.equal(await echo(first, "1"), "1");
  const second = client(ts);
  const err = await second.call("test.Echo", Buffer.from("2")).catch((e: unknown) => e);
  assert.ok(err instanceof ResourceExhaustedError, String(err));
  assert.match(err.message, /maximum of 1 connections/);
  assert.ok(refusedBy.includes("connection-limit"));
  assert.equal(await echo(first, "still"), "still");
});

test("a socket that does not authenticate within the handshake timeout is closed", async () => {
  const ts = await server({ handshakeTimeoutMs: 300 });
  const port = ts.server.address().port;
  const before = refusedBy.filter((c) => c === "preauth-timeout").length;
  // A TCP peer that never starts TLS.
  const tcp = tcpConnect(port, "127.0.0.1");
  const tcpClosed = new Promise<void>((r) => tcp.on("close", () => r()));
  tcp.on("error", () => undefined);
  // A TLS peer that completes the handshake and then sends nothing.
  const tls = tlsConnect({
    port,
    host: "127.0.0.1",
    ca: readFileSync(pki.caCertFile, "latin1"),
    cert: pki.user.certPem,
    key: pki.user.keyPem,
    servername: "localhost",
  });
  tls.on("error", () => undefined);
  const tlsClosed = new Promise<void>((r) => tls.on("close", () => r()));
  await new Promise<void>((r) => tls.once("secureConnect", () => r()));
  await Promise.all([tcpClosed, tlsClosed]);
  const after = refusedBy.filter((c) => c === "preauth-timeout").length;
  assert.equal(after - before, 2);
  // A peer that does authenticate is not affected by the timer.
  const c = client(ts);
  assert.equal(await echo(c, "ok"), "ok");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await echo(c, "later"), "later");
});

test("request bytes held by running calls are bounded per connection", async () => {
  const ts = await server({ maxBytesInFlight: 1000 });
  const c = client(ts);
  await c.connected();
  const ac = new AbortController();
  const contexts = ts.observed.contexts.length;
  const holding = c
    .call("test.Hang", Buffer.alloc(600), { signal: ac.signal })
    .catch((e: unknown) => e);
  await eventually(() => ts.observed.contexts.length === contexts + 1, 5_000, "first call runs");
  const err = await c.call("test.Hang", Buffer.alloc(600)).catch((e: unknown) => e);
  assert.ok(err instanceof ResourceExhaustedError, String(err));
  assert.equal(err.details.limit, "bytes-in-flight");
  // Small calls still fit beside the running one, and the budget comes back when it ends.
  assert.equal(await echo(c, "small"), "small");
  ac.abort();
  await holding;
  await eventually(() => ts.observed.aborted.length >= 1, 5_000, "first call aborted");
  assert.equal((await c.call("test.Echo", Buffer.alloc(900))).length, 900);
});

test("a client keeps its calls within the server's concurrency limit instead of being refused", async () => {
  const ts = await server({ maxConcurrentCalls: 4 });
  const c = client(ts, { maxCallsInFlight: 4 });
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => echo(c, String(i))));
  assert.deepEqual(
    replies,
    Array.from({ length: 50 }, (_, i) => String(i)),
  );
});

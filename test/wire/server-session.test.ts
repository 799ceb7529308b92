import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEnvelope, encodeEnvelope, type Envelope } from "../../src/wire/envelope.js";
import { NotFoundError, type WireError } from "../../src/wire/errors.js";
import { FrameDecoder, joinFrames } from "../../src/wire/framing.js";
import { bytesCodec, MethodRegistry } from "../../src/wire/registry.js";
import { ServerSession } from "../../src/wire/server-session.js";
import { silentLogger } from "../../src/wire/silent-logger.js";

/** A session on a fake transport: no socket, no TLS. */
function fakeSession(registry: MethodRegistry) {
  const out: Envelope[] = [];
  const decoder = new FrameDecoder(1 << 20);
  let closedWith: WireError | undefined;
  const session = new ServerSession(
    {
      send: (m) => {
        for (const f of decoder.pushMessage(m).frames) {
          const d = decodeEnvelope(f);
          if (d.ok) out.push(d.envelope);
        }
      },
      bufferedAmount: () => 0,
      close: (err) => (closedWith = err),
    },
    registry,
    { identity: "/CN=test", roles: new Set(["user"]), limited: false },
    {
      maxFrameSize: 1 << 20,
      maxConcurrentCalls: 8,
      maxConcurrentStreams: 8,
      maxBytesInFlight: 1 << 20,
      defaultDeadlineMs: 10_000,
      maxDeadlineMs: 60_000,
      streamHighWaterBytes: 1 << 20,
    },
    silentLogger,
  );
  const push = (envs: Envelope[]) => session.onMessage(joinFrames(envs.map(encodeEnvelope)));
  return { session, out, push, closed: () => closedWith };
}

const req = (id: number, method: string): Envelope => ({
  id,
  kind: "request",
  method,
  payload: new Uint8Array(0),
  deadlineMs: 0,
});
/** Let handlers run and the writer flush (it flushes on the turn after the reply is queued). */
const turn = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

test("a handler's own error class travels with its code", async () => {
  const r = new MethodRegistry();
  const bytes = { roles: ["user"], request: bytesCodec, response: bytesCodec };
  r.unary("m.Missing", bytes, () => {
    throw new NotFoundError("no such ad", { name: "slot1" });
  });
  const s = fakeSession(r);
  s.push([req(1, "m.Missing")]);
  await turn();
  const e = s.out[0]!;
  assert.equal(e.kind === "error" && e.code, "not-found");
  assert.equal(e.kind === "error" && e.details.name, "slot1");
});

test("an unexpected exception is sent as internal without its message", async () => {
  const r = new MethodRegistry();
  const bytes = { roles: ["user"], request: bytesCodec, response: bytesCodec };
  r.unary("m.Bug", bytes, () => {
    throw new Error("SQLITE_CORRUPT at /var/lib/updraft/schedd.db");
  });
  const s = fakeSession(r);
  s.push([req(1, "m.Bug")]);
  await turn();
  const e = s.out[0]!;
  assert.equal(e.kind === "error" && e.code, "internal");
  assert.ok(e.kind === "error" && !e.message.includes("SQLITE"));
});

test("a request id already in use closes the connection as malformed", async () => {
  const r = new MethodRegistry();
  const bytes = { roles: ["user"], request: bytesCodec, response: bytesCodec };
  r.unary("m.Slow", bytes, () => new Promise(() => {}));
  const s = fakeSession(r);
  s.push([req(5, "m.Slow"), req(5, "m.Slow")]);
  assert.equal(s.closed()?.code, "malformed-frame");
});

test("a cancel for an unknown id is ignored (it may cross the reply)", async () => {
  const r = new MethodRegistry();
  const bytes = { roles: ["user"], request: bytesCodec, response: bytesCodec };
  r.unary("m.Echo", bytes, (b) => b);
  const s = fakeSession(r);
  s.push([{ id: 99, kind: "cancel" }, req(1, "m.Echo")]);
  await turn();
  assert.equal(s.closed(), undefined);
  assert.equal(s.out[0]?.kind, "response");
});

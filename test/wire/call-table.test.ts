import assert from "node:assert/strict";
import { test } from "node:test";
import { CallTable } from "../../src/wire/call-table.js";
import type { Envelope } from "../../src/wire/envelope.js";
import { UnavailableError } from "../../src/wire/errors.js";

/** A call table on a fake link: records what it sends, and can be taken down. */
function fakeLink() {
  const sent: Envelope[] = [];
  let up = true;
  const table = new CallTable((env) => {
    if (!up) return false;
    sent.push(env);
    return true;
  }, 10_000);
  return {
    table,
    sent,
    setUp(v: boolean) {
      up = v;
    },
  };
}

test("replies are matched to calls by id, in any order", async () => {
  const { table, sent } = fakeLink();
  const a = table.call("m", Buffer.from("a"));
  const b = table.call("m", Buffer.from("b"));
  const [ra, rb] = sent as Extract<Envelope, { kind: "request" }>[];
  table.onEnvelope({ id: rb!.id, kind: "response", payload: Buffer.from("B") });
  table.onEnvelope({ id: ra!.id, kind: "response", payload: Buffer.from("A") });
  assert.equal(Buffer.from(await a).toString(), "A");
  assert.equal(Buffer.from(await b).toString(), "B");
  assert.equal(table.inFlight, 0);
});

test("a call made while down is sent on the next connection", async () => {
  const link = fakeLink();
  link.setUp(false);
  const p = link.table.call("m", Buffer.from("x"));
  assert.equal(link.sent.length, 0);
  link.setUp(true);
  link.table.onConnected();
  assert.equal(link.sent.length, 1);
  link.table.onEnvelope({ id: link.sent[0]!.id, kind: "response", payload: Buffer.from("ok") });
  assert.equal(Buffer.from(await p).toString(), "ok");
});

test("on disconnect, sent calls fail unless idempotent; idempotent ones are sent again", async () => {
  const link = fakeLink();
  const once = link.table.call("m", Buffer.from("state change"));
  const again = link.table.call("q", Buffer.from("query"), { idempotent: true });
  link.setUp(false);
  link.table.onDisconnected(new UnavailableError("gone"));
  await assert.rejects(once, (e: Error & { code?: string; details?: Record<string, string> }) => {
    return e.code === "unavailable" && e.details?.cause === "unavailable";
  });
  link.setUp(true);
  link.table.onConnected();
  const resent = link.sent.at(-1)!;
  assert.equal(resent.kind === "request" && resent.method, "q");
  link.table.onEnvelope({ id: resent.id, kind: "response", payload: Buffer.from("r") });
  assert.equal(Buffer.from(await again).toString(), "r");
});

test("a stream that already delivered items is not repeated, even if idempotent", async () => {
  const link = fakeLink();
  const s = link.table.stream("w", Buffer.alloc(0), { idempotent: true });
  const id = link.sent[0]!.id;
  link.table.onEnvelope({ id, kind: "item", payload: Buffer.from("1") });
  assert.equal(Buffer.from((await s.next()).value as Uint8Array).toString(), "1");
  link.table.onDisconnected(undefined);
  await assert.rejects(s.next(), (e: Error & { code?: string }) => e.code === "unavailable");
});

test("a server error reaches the caller as the typed error", async () => {
  const link = fakeLink();
  const p = link.table.call("m", Buffer.alloc(0));
  link.table.onEnvelope({
    id: link.sent[0]!.id,
    kind: "error",
    code: "not-found",
    message: "no such job",
    details: { job: "1.0" },
  });
  await assert.rejects(p, (e: Error & { code?: string; details?: Record<string, string> }) => {
    return e.name === "NotFoundError" && e.details?.job === "1.0";
  });
});

test("an abort sends a cancel for a call already sent", async () => {
  const link = fakeLink();
  const ac = new AbortController();
  const p = link.table.call("m", Buffer.alloc(0), { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, (e: Error & { code?: string }) => e.code === "cancelled");
  assert.deepEqual(
    link.sent.map((e) => e.kind),
    ["request", "cancel"],
  );
  assert.equal(link.table.inFlight, 0);
});

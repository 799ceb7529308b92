import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameDecoder } from "../../src/wire/framing.js";
import { FrameWriter } from "../../src/wire/frame-writer.js";

const nextTurn = () => new Promise((r) => setImmediate(r));

function frames(messages: Buffer[]): string[] {
  const d = new FrameDecoder(1 << 20);
  return messages.flatMap((m) => d.pushMessage(m).frames.map((f) => Buffer.from(f).toString()));
}

test("frames written in one turn leave as one message", async () => {
  const sent: Buffer[] = [];
  const w = new FrameWriter((m) => sent.push(m), 1 << 20);
  for (const s of ["a", "bb", "ccc"]) w.write(Buffer.from(s));
  assert.equal(sent.length, 0);
  await nextTurn();
  assert.equal(sent.length, 1);
  assert.deepEqual(frames(sent), ["a", "bb", "ccc"]);
  w.write(Buffer.from("d"));
  await nextTurn();
  assert.equal(sent.length, 2);
});

test("a batch above the message limit is split between frames, never inside one", async () => {
  const sent: Buffer[] = [];
  const w = new FrameWriter((m) => sent.push(m), 100);
  const parts = Array.from({ length: 10 }, (_, i) => String(i).repeat(40));
  for (const p of parts) w.write(Buffer.from(p));
  await nextTurn();
  assert.ok(sent.length > 1);
  for (const m of sent.slice(0, -1)) assert.ok(m.length <= 100, `message of ${m.length}`);
  assert.deepEqual(frames(sent), parts);
});

test("a closed writer drops what was queued and sends nothing more", async () => {
  const sent: Buffer[] = [];
  const w = new FrameWriter((m) => sent.push(m), 1 << 20);
  w.write(Buffer.from("lost"));
  w.close();
  w.write(Buffer.from("ignored"));
  await nextTurn();
  assert.equal(sent.length, 0);
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { FrameDecoder, joinFrames } from "../../src/wire/framing.js";

const frames = [
  Buffer.from("a"),
  Buffer.alloc(0),
  Buffer.alloc(200, 7), // two-byte length prefix
  randomBytes(70_000), // three-byte length prefix
];

test("whole frames from one message", () => {
  const d = new FrameDecoder(1 << 20);
  const r = d.pushMessage(joinFrames(frames));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.frames.map(Buffer.from), frames);
  assert.ok(d.atBoundary);
});

test("fed one byte at a time, the same frames come out", () => {
  const d = new FrameDecoder(1 << 20);
  const wire = joinFrames(frames);
  const out: Uint8Array[] = [];
  const boundaries = new Set<number>();
  for (let i = 1; i <= frames.length; i++) boundaries.add(joinFrames(frames.slice(0, i)).length);
  for (let i = 0; i < wire.length; i++) {
    const r = d.push(wire.subarray(i, i + 1));
    assert.equal(r.error, undefined);
    out.push(...r.frames);
    // The decoder is at a boundary exactly where a frame ends, and nowhere inside one.
    assert.equal(d.atBoundary, boundaries.has(i + 1), `after byte ${i}`);
  }
  assert.deepEqual(out.map(Buffer.from), frames);
  assert.ok(d.atBoundary);
});

test("arbitrary split points give the same frames", () => {
  const wire = joinFrames(frames);
  for (let trial = 0; trial < 50; trial++) {
    const d = new FrameDecoder(1 << 20);
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < wire.length) {
      const n = 1 + Math.floor(Math.random() * 300);
      out.push(...d.push(wire.subarray(pos, pos + n)).frames);
      pos += n;
    }
    assert.deepEqual(out.map(Buffer.from), frames);
  }
});

test("a message that ends inside a frame is malformed", () => {
  const wire = joinFrames([Buffer.alloc(100, 1)]);
  const d = new FrameDecoder(1 << 20);
  const r = d.pushMessage(wire.subarray(0, 50));
  assert.equal(r.error?.code, "malformed-frame");
  // A failed decoder stays failed.
  assert.equal(d.push(wire).error?.code, "malformed-frame");
});

test("a message that ends inside a length prefix is malformed", () => {
  const d = new FrameDecoder(1 << 20);
  assert.equal(d.pushMessage(Buffer.from([0x80])).error?.code, "malformed-frame");
});

test("an over-long varint is malformed, not a huge frame", () => {
  const d = new FrameDecoder(1 << 20);
  const r = d.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.equal(r.error?.code, "malformed-frame");
});

test("a length above the limit fails before the body arrives", () => {
  const d = new FrameDecoder(1000);
  const r = d.push(joinFrames([Buffer.alloc(1001)]).subarray(0, 2));
  assert.equal(r.error?.code, "frame-too-large");
  assert.equal(r.frames.length, 0);
});

test("frames before a failure are still returned", () => {
  const d = new FrameDecoder(10);
  const wire = Buffer.concat([joinFrames([Buffer.from("ok")]), joinFrames([Buffer.alloc(11)])]);
  const r = d.push(wire);
  assert.equal(r.frames.length, 1);
  assert.equal(r.error?.code, "frame-too-large");
});

test("random garbage never throws", () => {
  for (let i = 0; i < 500; i++) {
    const d = new FrameDecoder(4096);
    const r = d.pushMessage(randomBytes(1 + Math.floor(Math.random() * 64)));
    assert.ok(Array.isArray(r.frames));
    for (const f of r.frames) assert.ok(f.length <= 4096);
  }
});

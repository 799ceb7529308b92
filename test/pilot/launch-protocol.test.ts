/**
 * The frames between the pilot and its job launcher, without a process: any split of the bytes
 * gives the same messages, and a frame over its bound or a message of the wrong shape is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  asFromLauncher,
  asToLauncher,
  encodeFrame,
  FrameDecoder,
  MAX_ANSWER_BYTES,
  type ToLauncher,
} from "../../src/pilot/runner/launch-protocol.js";

const start: ToLauncher = {
  t: "start",
  id: 1,
  req: {
    command: "/bin/sh",
    args: ["-c", "echo 'é' \u0000"],
    cwd: "/tmp/x",
    env: { A: "1" },
    stdout: "/tmp/x/out",
    stderr: "/tmp/x/out",
    dirs: ["/tmp/x/tmp"],
  },
};

test("frames fed one byte at a time give the messages in order", () => {
  const bytes = Buffer.concat([
    encodeFrame(start),
    encodeFrame({ t: "signal", id: 1, sig: "SIGTERM" }),
  ]);
  const d = new FrameDecoder(1 << 20);
  const got: unknown[] = [];
  for (const b of bytes) {
    const r = d.push(Buffer.from([b]));
    assert.ok(r.ok);
    got.push(...r.messages);
  }
  assert.deepEqual(got, [start, { t: "signal", id: 1, sig: "SIGTERM" }]);
  assert.deepEqual(got.map(asToLauncher), got);
});

test("a frame over the bound is refused before its body arrives", () => {
  const d = new FrameDecoder(MAX_ANSWER_BYTES);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(MAX_ANSWER_BYTES + 1);
  assert.deepEqual(d.push(head), { ok: false, reason: `frame of 65537 bytes over 65536` });
  const notJson = Buffer.from("\u0000\u0000\u0000\u0002{x");
  assert.deepEqual(new FrameDecoder(100).push(notJson), {
    ok: false,
    reason: "a frame is not JSON",
  });
});

test("messages of the wrong shape are not taken", () => {
  const bad: unknown[] = [
    null,
    [],
    { t: "start", id: 0, req: start.t === "start" ? start.req : undefined },
    { t: "start", id: 2, req: { ...(start.t === "start" ? start.req : {}), env: { A: 1 } } },
    { t: "start", id: 2, req: { ...(start.t === "start" ? start.req : {}), dirs: "/" } },
    { t: "signal", id: 1, sig: "SIGSTOP" },
    { t: "exec", id: 1 },
  ];
  for (const m of bad) assert.equal(asToLauncher(m), undefined, JSON.stringify(m));
  assert.deepEqual(asFromLauncher({ t: "exited", id: 3, code: null, signal: "SIGKILL" }), {
    t: "exited",
    id: 3,
    code: null,
    signal: "SIGKILL",
  });
  for (const m of [
    { t: "started", id: 3, pid: -1 },
    { t: "failed", id: 3, stage: "somewhere", errno: 2, message: "" },
    { t: "exited", id: 3, code: "0", signal: null },
    { t: "ready" },
  ]) {
    assert.equal(asFromLauncher(m), undefined, JSON.stringify(m));
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("a unary call returns the handler's reply", async () => {
  const client = connect(world.ts, world.pki);
  try {
    const reply = await client.call("test.Echo", Buffer.from("hello"));
    assert.equal(Buffer.from(reply).toString(), "hello");
  } finally {
    await client.close();
  }
});

test("many concurrent calls share one connection and each gets its own reply", async () => {
  const client = connect(world.ts, world.pki);
  try {
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) => client.call("test.Echo", Buffer.from(String(i)))),
    );
    replies.forEach((r, i) => assert.equal(Buffer.from(r).toString(), String(i)));
    assert.equal(world.ts.server.connectionCount, 1);
  } finally {
    await client.close();
  }
});

test("the handler sees identity, roles and a deadline", async () => {
  const client = connect(world.ts, world.pki);
  try {
    const before = Date.now();
    await client.call("test.Echo", Buffer.from("x"), { deadlineMs: 10_000 });
    const ctx = world.ts.observed.contexts.at(-1)!;
    assert.equal(ctx.identity, world.pki.user.subject);
    assert.ok(ctx.roles.has("user"));
    assert.equal(ctx.method, "test.Echo");
    assert.ok(ctx.deadline > before && ctx.deadline <= Date.now() + 10_000);
  } finally {
    await client.close();
  }
});

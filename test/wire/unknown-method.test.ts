import assert from "node:assert/strict";
import { test } from "node:test";
import { UnknownMethodError } from "../../src/wire/errors.js";
import { connect, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("an unknown method fails with unknown-method and the connection stays up", async () => {
  const client = connect(world.ts, world.pki);
  try {
    await assert.rejects(client.call("no.Such", new Uint8Array(0)), UnknownMethodError);
    await assert.rejects(
      (async () => {
        for await (const _ of client.stream("no.SuchStream", new Uint8Array(0))) break;
      })(),
      UnknownMethodError,
    );
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("z"))).toString(), "z");
  } finally {
    await client.close();
  }
});

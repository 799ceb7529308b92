import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { UnknownMethodError } from "../../src/wire/errors.js";
import { connect, createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

let pki: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  ts = await startServer(pki);
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
});

test("an unknown method fails with unknown-method and the connection stays up", async () => {
  const client = connect(ts, pki);
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

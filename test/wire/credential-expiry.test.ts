import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ConnectionStatus } from "../../src/wire/status.js";
import {
  connect,
  createTestPki,
  eventually,
  startServer,
  type TestPki,
  type TestServer,
} from "./harness.js";

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

test("the server ends a connection when the client's proxy expires", async () => {
  const shortLived = pki.proxyOf(pki.user, { hours: 4 / 3600 }); // four seconds
  const client = connect(ts, pki, { credentialFile: shortLived.file });
  const seen: ConnectionStatus[] = [];
  const off = client.onStatus((s) => seen.push(s));
  try {
    await client.call("test.Echo", Buffer.from("while valid"));
    await eventually(
      () => seen.some((s) => s.type === "disconnected" && s.error?.code === "unauthenticated"),
      15_000,
      "expiry close",
    );
    await assert.rejects(
      client.call("test.Echo", Buffer.from("after expiry")),
      (e: Error & { code?: string }) => e.code === "unauthenticated",
    );
  } finally {
    off();
    await client.close();
  }
});

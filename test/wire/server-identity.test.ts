import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { UnauthenticatedError } from "../../src/wire/errors.js";
import { connect, createTestPki, startServer, type TestPki } from "./harness.js";

let pki: TestPki;
let other: TestPki;

before(() => {
  pki = createTestPki();
  other = createTestPki();
});
after(() => {
  pki.cleanup();
  other.cleanup();
});

test("a server whose certificate does not name the host is refused", async () => {
  const elsewhere = pki.issueHost("elsewhere.example.org");
  const ts = await startServer(pki, { certFile: elsewhere.certFile, keyFile: elsewhere.keyFile });
  const client = connect(ts, pki);
  try {
    await assert.rejects(client.call("test.Echo", Buffer.from("x")), UnauthenticatedError);
    assert.equal(ts.observed.contexts.length, 0);
  } finally {
    await client.close();
    await ts.server.close();
  }
});

test("a server whose certificate comes from an untrusted CA is refused", async () => {
  const ts = await startServer(pki, {
    certFile: other.host.certFile,
    keyFile: other.host.keyFile,
  });
  const client = connect(ts, pki);
  try {
    await assert.rejects(client.call("test.Echo", Buffer.from("x")), UnauthenticatedError);
    assert.equal(ts.observed.contexts.length, 0);
  } finally {
    await client.close();
    await ts.server.close();
  }
});

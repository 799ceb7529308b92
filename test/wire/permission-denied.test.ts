import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PermissionDeniedError } from "../../src/wire/errors.js";
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

test("a method whose roles the caller lacks fails with permission-denied", async () => {
  const client = connect(ts, pki);
  try {
    await assert.rejects(client.call("test.AdminOnly", new Uint8Array(0)), PermissionDeniedError);
    // The refusal is per call: the connection keeps serving what the caller may do.
    assert.equal(Buffer.from(await client.call("test.Echo", Buffer.from("y"))).toString(), "y");
  } finally {
    await client.close();
  }
});

test("an identity with no role at all is refused at the upgrade with 403", async () => {
  const { createAuthorizer } = await import("../../src/security/authz.js");
  const strict = await startServer(pki, {
    authorizer: createAuthorizer({
      rules: [{ identity: "/CN=nobody", roles: ["admin"] }],
      default_roles: [],
    }),
  });
  const client = connect(strict, pki);
  try {
    await assert.rejects(
      client.call("test.Echo", new Uint8Array(0)),
      (err: Error & { code?: string }) => err.code === "permission-denied",
    );
  } finally {
    await client.close();
    await strict.server.close();
  }
});

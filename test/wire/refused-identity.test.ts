import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { issueUserCert } from "../../src/security/pki.js";
import { UnauthenticatedError, WireError } from "../../src/wire/errors.js";
import { connect, createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

let pki: TestPki;
let other: TestPki;
let ts: TestServer;

before(async () => {
  pki = createTestPki();
  other = createTestPki();
  ts = await startServer(pki);
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
  other.cleanup();
});

async function refusal(opts: Parameters<typeof connect>[2]): Promise<WireError> {
  const client = connect(ts, pki, opts);
  try {
    await client.call("test.Echo", Buffer.from("x"), { deadlineMs: 10_000 });
  } catch (err) {
    return err as WireError;
  } finally {
    await client.close();
  }
  throw new Error("the call succeeded");
}

test("a certificate from an unknown CA is refused as unauthenticated", async () => {
  const err = await refusal({
    credentialFile: undefined,
    certPem: other.user.certPem,
    keyPem: other.user.keyPem,
  });
  assert.ok(err instanceof UnauthenticatedError, String(err));
  assert.equal(ts.server.connectionCount, 0);
});

test("a proxy of an unknown CA's user is refused", async () => {
  const err = await refusal({ credentialFile: other.proxy.file });
  assert.equal(err.code, "unauthenticated");
});

test("an expired certificate is refused", async () => {
  const old = issueUserCert(pki.ca, {
    subject: "/DC=org/DC=example/CN=Old",
    days: 1,
    now: new Date(Date.now() - 3 * 86_400_000),
  });
  const err = await refusal({
    credentialFile: undefined,
    certPem: old.certPem,
    keyPem: old.keyPem,
  });
  assert.equal(err.code, "unauthenticated");
  assert.match(err.message, /expire/i);
});

test("a limited proxy is refused unless the server allows them", async () => {
  const limited = pki.proxyOf(pki.user, { limited: true });
  const err = await refusal({ credentialFile: limited.file });
  assert.equal(err.code, "unauthenticated");
});

test("a client without a certificate gets 401 at the upgrade", async () => {
  const ca = readFileSync(pki.caCertFile, "latin1");
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(ts.url, { ca });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => reject(new Error("upgrade accepted without a certificate")));
    ws.on("error", () => undefined);
  });
  assert.equal(status, 401);
});

test("a plain HTTPS request gets no WebSocket and no data", async () => {
  const ca = readFileSync(pki.caCertFile, "latin1");
  const res = await fetchStatus(ts.url.replace("wss:", "https:"), ca);
  assert.equal(res, 426);
});

function fetchStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

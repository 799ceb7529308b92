import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { createLogger } from "../../src/common/logger.js";
import { bytesCodec } from "../../src/wire/registry.js";
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

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

test("a refused connection is logged with its reason and no credential material", async () => {
  const server = capture();
  const clientLog = capture();
  const ts = await startServer(pki, { logger: server.logger });
  const client = connect(ts, pki, {
    credentialFile: other.proxy.file,
    logger: clientLog.logger,
  });
  try {
    await assert.rejects(client.call("test.Echo", Buffer.from("x")));
  } finally {
    await client.close();
    await ts.server.close();
  }
  const refused = server.lines
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === "connection refused");
  assert.ok(refused, server.lines.join(""));
  assert.equal(refused.code, "unauthenticated");
  assert.ok(typeof refused.reason === "string" && refused.reason.length > 0);
  const everything = server.lines.join("") + clientLog.lines.join("");
  assert.doesNotMatch(everything, /BEGIN|PRIVATE KEY/);
  // Not even the base64 body of the key or certificates.
  const secret = readFileSync(other.proxy.file, "latin1")
    .split("\n")
    .filter((l) => l.length > 40 && !l.startsWith("-----"));
  for (const line of secret.slice(0, 20)) assert.ok(!everything.includes(line));
});

test("an accepted connection is logged with the identity", async () => {
  const server = capture();
  const ts = await startServer(pki, { logger: server.logger });
  const client = connect(ts, pki);
  try {
    await client.call("test.Echo", Buffer.from("x"));
  } finally {
    await client.close();
    await ts.server.close();
  }
  const accepted = server.lines
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === "connection accepted");
  assert.equal(accepted?.identity, pki.user.subject);
});

test("a handler's lines carry the connection's fields, the method and the call id, redacted", async () => {
  // The daemons' logger, which redacts credentials.
  const lines: string[] = [];
  const logger = createLogger({
    name: "test",
    level: "debug",
    destination: { write: (s: string) => void lines.push(s) },
  });
  const server = { logger, lines };
  const ts = await startServer(pki, { logger: server.logger });
  const bytes = { request: bytesCodec, response: bytesCodec };
  ts.server.unary("test.Logs", { roles: ["user", "read"], ...bytes }, (req, ctx) => {
    ctx.log.info({ job: "1.0", token: "not-for-the-log" }, "handled");
    ctx.log.debug({ step: 2 });
    return req;
  });
  const client = connect(ts, pki);
  try {
    await client.call("test.Logs", Buffer.from("x"));
    await client.call("test.Logs", Buffer.from("y"));
  } finally {
    await client.close();
    await ts.server.close();
  }
  const handled = server.lines.filter((l) => l.includes('"msg":"handled"'));
  assert.equal(handled.length, 2, server.lines.join(""));
  const first = JSON.parse(handled[0]!) as Record<string, unknown>;
  // The call's own fields follow the connection's, as a child logger's bindings would.
  const keys = Object.keys(first);
  assert.ok(keys.indexOf("identity") < keys.indexOf("method"), handled[0]);
  assert.ok(keys.indexOf("callId") < keys.indexOf("job"), handled[0]);
  assert.equal(first.identity, pki.user.subject);
  assert.equal(first.method, "test.Logs");
  assert.equal(first.job, "1.0");
  assert.equal(first.token, "[redacted]");
  const second = JSON.parse(handled[1]!) as { callId: unknown };
  assert.equal(typeof first.callId, "number");
  assert.notEqual(second.callId, first.callId);
  const debug = server.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(debug.some((l) => l.step === 2 && l.method === "test.Logs" && l.level === 20));
  assert.doesNotMatch(server.lines.join(""), /not-for-the-log/);
});

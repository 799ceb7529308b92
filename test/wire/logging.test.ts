import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { pino } from "pino";
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

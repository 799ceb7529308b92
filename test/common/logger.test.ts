import assert from "node:assert/strict";
import { test } from "node:test";
import { Writable } from "node:stream";
import { createLogger } from "../../src/common/logger.js";

test("credentials are redacted and errors keep their message", () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ name: "test", destination: sink });
  log
    .child({ component: "x" })
    .info({ keyPem: "-----BEGIN PRIVATE KEY-----abc", cred: { proxy: "P" } }, "hi");
  log.error({ err: new Error("boom") }, "failed");
  const first = JSON.parse(lines[0]!);
  assert.equal(first.keyPem, "[redacted]");
  assert.equal(first.cred.proxy, "[redacted]");
  assert.equal(first.component, "x");
  assert.equal(first.daemon, "test");
  assert.equal(JSON.parse(lines[1]!).err.message, "boom");
});

test("credentials are redacted at the top, one object down, in errors and in request headers", () => {
  type Line = Record<string, Record<string, Record<string, string>> & Record<string, string>>;
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Line);
      done();
    },
  });
  const log = createLogger({ name: "test", destination: sink });
  const err = Object.assign(new Error("refused"), { token: "eyJ.secret.sig", code: "x" });
  const req = { method: "GET", headers: { authorization: "Bearer abc", host: "h" } };
  const call = { token: "T", proxy: undefined, user: "alice" };
  log.child({ password: "pw", component: "c" }).warn({ err, req, call, credential: "C" }, "m");
  const [line] = lines;
  assert.equal(line!.password, "[redacted]");
  assert.equal(line!.component, "c");
  assert.equal(line!.credential, "[redacted]");
  assert.equal(line!.err.token, "[redacted]");
  assert.equal(line!.err.message, "refused");
  assert.equal(line!.err.code, "x");
  assert.match(String(line!.err.stack), /refused/);
  assert.equal(line!.req.headers.authorization, "[redacted]");
  assert.equal(line!.req.headers.host, "h");
  assert.deepEqual(line!.call, { token: "[redacted]", user: "alice" });
  // The caller's objects are left as they were.
  assert.equal(err.token, "eyJ.secret.sig");
  assert.equal(req.headers.authorization, "Bearer abc");
  assert.equal(call.token, "T");
  assert.ok(!JSON.stringify(lines).includes("secret"));
});

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

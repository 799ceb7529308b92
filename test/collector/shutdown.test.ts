import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createPool, type Pool, tempDir } from "./harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
let pool: Pool;
let tmp: ReturnType<typeof tempDir>;

before(() => {
  pool = createPool();
  tmp = tempDir();
});
after(() => {
  tmp.cleanup();
  pool.cleanup();
});

test("updraft collector logs JSON, and on SIGTERM writes its snapshot and exits 0", async () => {
  const snapshot = join(tmp.dir, "snap.sqlite");
  const config = join(tmp.dir, "collector.yaml");
  writeFileSync(
    config,
    [
      "listen: { host: 127.0.0.1, port: 0 }",
      `tls: { cert_file: ${pool.pki.host.certFile}, key_file: ${pool.pki.host.keyFile}, trust_dir: ${pool.pki.caDir} }`,
      `snapshot: { path: ${snapshot}, period_s: 3600 }`,
      "",
    ].join("\n"),
  );
  const child = spawn(process.execPath, [bin, "collector", "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const deadline = Date.now() + 30_000;
  while (!out.includes("collector started")) {
    if (Date.now() > deadline) throw new Error(`collector did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGTERM");
  assert.equal(await exited, 0, out);
  const lines = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { msg: string; daemon: string });
  assert.ok(lines.every((l) => l.daemon === "collector"));
  assert.ok(lines.some((l) => l.msg === "collector stopped"));
  assert.ok(existsSync(snapshot));
  assert.ok(!out.includes("PRIVATE KEY"));
});

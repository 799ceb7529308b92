/**
 * Every daemon starts as `updraft <daemon> run --config FILE`; the older forms stay as aliases.
 * Both forms go through one failure mapping: a configuration problem exits 78 (EX_CONFIG) listing
 * it, a failed system call (a port in use) exits 71 (EX_OSERR) naming the daemon.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createPool, type Pool, tempDir } from "../collector/harness.js";
import { runCli } from "./run-cli.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
let pool: Pool;
let tmp: ReturnType<typeof tempDir>;
let busy: Server;
let busyPort: number;

before(async () => {
  pool = createPool();
  tmp = tempDir();
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as { port: number }).port;
});
after(async () => {
  await new Promise((r) => busy.close(r));
  tmp.cleanup();
  pool.cleanup();
});

const FORMS: Record<string, string[][]> = {
  collector: [["collector", "run"], ["collector"]],
  schedd: [["schedd", "run"], ["schedd"]],
  factory: [["factory", "run"], ["factory"]],
  frontend: [["frontend", "run"]],
};

for (const [daemon, forms] of Object.entries(FORMS)) {
  for (const form of forms) {
    test(`updraft ${form.join(" ")} --config with an unknown key exits 78 naming it`, async () => {
      const file = join(tmp.dir, `${daemon}-bad.yaml`);
      writeFileSync(file, "no_such_key_here: 1\n");
      const r = await runCli([...form, "--config", file], process.env);
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /no_such_key_here \(line 1\): unknown key/);
      assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/, "no stack trace");
    });
  }
}

test("updraft collector run without --config says what to give", async () => {
  const r = await runCli(["collector", "run"], process.env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /give --config FILE/);
});

function collectorConfig(name: string, port: number): string {
  const file = join(tmp.dir, name);
  writeFileSync(
    file,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      `tls: { cert_file: ${pool.pki.host.certFile}, key_file: ${pool.pki.host.keyFile}, trust_dir: ${pool.pki.caDir} }`,
      "",
    ].join("\n"),
  );
  return file;
}

for (const form of FORMS.collector!) {
  test(`updraft ${form.join(" ")} on a port in use exits 71 naming the daemon`, async () => {
    const file = collectorConfig(`busy-${form.length}.yaml`, busyPort);
    const r = await runCli([...form, "--config", file], process.env);
    assert.equal(r.code, 71, r.stderr);
    assert.match(r.stderr, /collector: .*EADDRINUSE/);
  });
}

test("a certificate, key or trust directory the daemon cannot use exits 71 naming it, without a stack", async () => {
  const openKey = join(tmp.dir, "open-key.pem");
  copyFileSync(pool.pki.host.keyFile, openKey);
  chmodSync(openKey, 0o644);
  const cases: [tls: string, says: RegExp][] = [
    [
      `{ cert_file: ${join(tmp.dir, "missing.pem")}, key_file: ${pool.pki.host.keyFile}, trust_dir: ${pool.pki.caDir} }`,
      /collector: tls\.cert_file .*missing\.pem: ENOENT/,
    ],
    [
      `{ cert_file: ${pool.pki.host.certFile}, key_file: ${openKey}, trust_dir: ${pool.pki.caDir} }`,
      /collector: tls\.key_file .*open-key\.pem can be read or written by others \(mode 0644\); chmod 600/,
    ],
    [
      `{ cert_file: ${pool.pki.host.certFile}, key_file: ${pool.pki.host.keyFile}, trust_dir: ${join(tmp.dir, "no-such-dir")} }`,
      /collector: cannot read trust directory .*no-such-dir/,
    ],
  ];
  for (const [tls, says] of cases) {
    const file = join(tmp.dir, "unusable-tls.yaml");
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\ntls: ${tls}\n`);
    const r = await runCli(["collector", "run", "--config", file], process.env);
    assert.equal(r.code, 71, r.stderr);
    assert.match(r.stderr, says);
    assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/, "no stack trace");
  }
});

test("a tokens block whose key file cannot be read exits 78 naming its key, without a stack", async () => {
  const file = join(tmp.dir, "tokens-missing-jwks.yaml");
  writeFileSync(
    file,
    [
      "listen: { host: 127.0.0.1, port: 0 }",
      `tls: { cert_file: ${pool.pki.host.certFile}, key_file: ${pool.pki.host.keyFile}, trust_dir: ${pool.pki.caDir} }`,
      "tokens:",
      `  issuers: [{ issuer: "https://issuer.example.org", jwks_file: ${join(tmp.dir, "no-jwks.json")} }]`,
      "  audiences: [collector]",
      "",
    ].join("\n"),
  );
  const r = await runCli(["collector", "run", "--config", file], process.env);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /tokens\.issuers\[0\]\.jwks_file: .*no-jwks\.json: ENOENT/);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/, "no stack trace");
});

test("a token issuer's ca_file the daemon cannot read exits 71 naming its key, without a stack", async () => {
  const file = join(tmp.dir, "tokens-missing-ca.yaml");
  writeFileSync(
    file,
    [
      "listen: { host: 127.0.0.1, port: 0 }",
      `tls: { cert_file: ${pool.pki.host.certFile}, key_file: ${pool.pki.host.keyFile}, trust_dir: ${pool.pki.caDir} }`,
      "tokens:",
      `  issuers: [{ issuer: "https://issuer.example.org", ca_file: ${join(tmp.dir, "no-ca.pem")} }]`,
      "  audiences: [collector]",
      "",
    ].join("\n"),
  );
  const r = await runCli(["collector", "run", "--config", file], process.env);
  assert.equal(r.code, 71, r.stderr);
  assert.match(r.stderr, /tokens\.issuers\[0\]\.ca_file .*no-ca\.pem: ENOENT/);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/, "no stack trace");
});

test("updraft collector run --config starts the collector and SIGTERM stops it with 0", async () => {
  const file = collectorConfig("good.yaml", 0);
  const child = spawn(process.execPath, [bin, "collector", "run", "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 30_000;
  while (!out.includes("collector started")) {
    if (Date.now() > deadline) assert.fail(`collector did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGTERM");
  assert.equal(await exited, 0, out);
  assert.match(out, /collector stopped/);
});

test("each daemon's run subcommand documents --config in its help", async () => {
  for (const daemon of Object.keys(FORMS)) {
    const r = await runCli([daemon, "run", "--help"], process.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: updraft ${daemon} run \\[options\\]`));
    assert.match(r.stdout, /--config <file>/);
  }
});

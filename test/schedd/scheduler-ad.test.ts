/**
 * A real `updraft schedd` advertises its Scheduler ad to a real `updraft collector`, both started
 * as daemons from their config files, and `updraft status` shows it.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { execFile } from "node:child_process";
import { createTestPki, type TestPki } from "../helpers/pki.js";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));

let pki: TestPki;
let dir: string;
const daemons: ChildProcess[] = [];

/** Start a daemon and wait for the log line that says it listens; returns its URL. */
function startDaemon(kind: "collector" | "schedd", config: string): Promise<string> {
  const child = spawn(process.execPath, [bin, kind, "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  daemons.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    // Keep reading for the daemon's whole life so its log never fills the pipe.
    child.stdout!.on("data", (chunk) => {
      out += String(chunk);
      const m = /"port":(\d+),"msg":"listening"/.exec(out);
      if (m) resolve(`wss://localhost:${m[1]}/`);
    });
    child.stderr!.on("data", (chunk) => (out += String(chunk)));
    child.once("exit", (code) => reject(new Error(`${kind} exited with ${code}: ${out}`)));
  });
}

before(() => {
  pki = createTestPki();
  dir = mkdtempSync(join(tmpdir(), "updraft-scheduler-ad-"));
});

after(async () => {
  for (const d of daemons) {
    if (d.exitCode === null) {
      d.kill("SIGTERM");
      await once(d, "exit");
    }
  }
  rmSync(dir, { recursive: true, force: true });
  pki.cleanup();
});

test("the schedd's Scheduler ad reaches the collector with the schedd's identity", async () => {
  const hostDn = "/DC=org/DC=example/CN=localhost";
  writeFileSync(
    join(dir, "collector.yaml"),
    `listen: { host: 127.0.0.1, port: 0 }
tls: { cert_file: ${pki.host.certFile}, key_file: ${pki.host.keyFile}, trust_dir: ${pki.caDir} }
authorization:
  rules:
    - { identity: "${hostDn}", roles: [daemon, read] }
  default_roles: [read]
`,
  );
  const collector = await startDaemon("collector", join(dir, "collector.yaml"));
  writeFileSync(
    join(dir, "schedd.yaml"),
    `name: schedd@test
listen: { host: 127.0.0.1, port: 0 }
tls: { cert_file: ${pki.host.certFile}, key_file: ${pki.host.keyFile}, trust_dir: ${pki.caDir} }
state_dir: ${join(dir, "schedd")}
authorization: { rules: [ { identity: "/DC=org/DC=example/CN=*", roles: [user] } ] }
collector: { url: "${collector}", interval_s: 1 }
`,
  );
  const schedd = await startDaemon("schedd", join(dir, "schedd.yaml"));

  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    UPDRAFT_CONFIG: join(dir, "no-client.yaml"),
    UPDRAFT_POOL: collector,
    X509_USER_PROXY: pki.proxy.file,
    X509_CERT_DIR: pki.caDir,
  };
  const args = [bin, "status", "--type", "Scheduler", "-af", "Name", "AuthenticatedIdentity"];
  let seen = "";
  // The first advertisement goes out at start; allow a few intervals before giving up.
  for (let attempt = 0; attempt < 50 && seen === ""; attempt++) {
    seen = (await run(process.execPath, args, { env })).stdout.trim();
    if (seen === "") await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(seen, `schedd@test ${hostDn}`);
  const address = await run(
    process.execPath,
    [bin, "status", "--type", "Scheduler", "-af", "MyAddress"],
    { env },
  );
  assert.equal(address.stdout.trim(), schedd.replace("localhost", "127.0.0.1"));

  // User commands find the schedd through the pool, as condor_q does, by default or by name.
  const cli = (...a: string[]) =>
    run(process.execPath, [bin, ...a], { env }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const jobFile = join(dir, "job.sub");
  writeFileSync(jobFile, "executable = /bin/true\nqueue 2\n");
  const submitted = await cli("submit", jobFile);
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.match(submitted.stdout, /2 job\(s\) submitted to cluster 1/);
  const byName = await cli("q", "-name", "schedd@test", "-af", "ClusterId", "ProcId");
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(byName.stdout, "1 0\n1 1\n");
  const unknown = await cli("q", "-name", "nope@test");
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /has no schedd named 'nope@test'/);
  const noPool = await run(process.execPath, [bin, "q"], {
    env: { ...env, UPDRAFT_POOL: "" },
  }).catch((e: { code: number; stderr: string }) => e);
  assert.match(noPool.stderr, /no schedd given: .*--pool or UPDRAFT_POOL/);
});

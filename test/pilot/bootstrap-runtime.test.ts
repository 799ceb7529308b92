/**
 * A pilot that brings its own Node.js: a staging folder as `updraft factory stage` writes it (this
 * build's install archive, the pinned runtime fetched from the npm registry, manifest.txt),
 * served by a plain HTTP web server, started by the bootstrap on a node whose own `node` is an
 * old one (hidden in a mount namespace), claims and runs a job from a real schedd. Then what a
 * node that cannot use the runtime, or a broken runtime, does to the pilot.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { writeInstallArchive } from "../../src/factory/staging/install.js";
import { sha256Hex } from "../../src/factory/staging/manifest.js";
import {
  NODE_RUNTIME_VERSION,
  runtimePath,
  NODE_RUNTIMES,
  stageRuntimes,
} from "../../src/factory/staging/runtime.js";
import { MANIFEST_NAME, stageDirectory } from "../../src/factory/staging/staging-area.js";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { createHiddenNode, PLAIN_PATH, STUB_NODE_VERSION } from "../helpers/hidden-node.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const root = mkdtempSync(join(tmpdir(), "updraft-runtime-"));
const hidden = createHiddenNode(root);
const x64 = NODE_RUNTIMES.find((p) => p.machine === "x86_64")!;
let web: Server;
let base: string;
let env: TestEnv;

/** Any web server: plain HTTP, files as they are on disk under `root`, nothing else. */
function startWebServer(): Promise<string> {
  web = createServer((req, res) => {
    const p = resolve(root, "." + decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    if (!p.startsWith(root + "/") || !existsSync(p) || !statSync(p).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Length": statSync(p).size });
    createReadStream(p).pipe(res);
  });
  return new Promise((r) =>
    web.listen(0, "127.0.0.1", () => {
      const { port } = web.address() as { port: number };
      r(`http://127.0.0.1:${port}`);
    }),
  );
}

/** A staging folder under `root/<name>` as `stage` writes it; returns its manifest's hash. */
function writeArea(name: string, fill: (dir: string) => void): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  fill(dir);
  const area = stageDirectory(dir);
  writeFileSync(join(dir, MANIFEST_NAME), area.manifestText);
  return area.manifestSha256;
}

let goodSha: string;
before(async () => {
  assert.equal(process.arch, "x64", "these tests run the x86_64 runtime");
  env = await startEnv();
  base = await startWebServer();
  // One copy of the registry's tarball, fetched with npm (its cache makes reruns cheap).
  await stageRuntimes(join(root, "registry"), { machines: ["x86_64", "aarch64"] });
  goodSha = writeArea("good", (dir) => {
    writeInstallArchive(repo, dir);
    mkdirSync(join(dir, "runtime"));
    copyFileSync(join(root, "registry", runtimePath(x64)), join(dir, runtimePath(x64)));
  });
});

after(async () => {
  web?.close();
  await env?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bootstrap, as a site's batch system would start it, on a node with `node` hidden. */
function bootstrap(area: string, sha: string, extra: string[] = [], path = PLAIN_PATH) {
  const wb = mkdtempSync(join(root, "work-"));
  const argv = ["/bin/sh", SCRIPT, "--staging", `${base}/${area}`, "--manifest-sha256", sha]
    .concat(["--work-base", wb, "--max-idle", "2", "--entry", "runtime_entry"])
    .concat(extra);
  const [cmd, ...args] = hidden.wrap(argv);
  return new Promise<Run>((res) => {
    const child = spawn(cmd!, args, {
      cwd: wb,
      env: { PATH: path, HOME: wb },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => res({ code, stdout, stderr }));
  });
}

function failure(r: Run): { cls?: string; message: string } {
  const exit = parsePilotOutput(r.stdout).report?.exit;
  return { cls: exit?.failureClass, message: exit?.message ?? "" };
}

test("with the node's own node too old, the pilot fetches its runtime over HTTP and runs a job from a real schedd", async () => {
  const alice = env.client("alice");
  const cluster = await submit(alice, [
    job({
      Cmd: '"/bin/sh"',
      TransferExecutable: "false",
      Arguments: "\"-c 'node --version > out.txt; echo ran >> out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    }),
  ]);
  const credential = join(root, "pilot-credential.pem");
  writeFileSync(credential, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
  const r = await bootstrap("good", goodSha, [
    "--schedd",
    env.schedd.url(),
    "--credential",
    credential,
    "--trust-dir",
    env.pki.caDir,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(
    r.stderr,
    new RegExp(
      `using Node.js ${NODE_RUNTIME_VERSION} from the staged runtime ${runtimePath(x64)} \\(Node.js ${STUB_NODE_VERSION} \\(node\\) is older than 20\\)`,
    ),
  );
  const report = parsePilotOutput(r.stdout).report;
  assert.equal(report?.jobs.length, 1, r.stdout);
  const [j] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(j?.JobStatus, "4");
  const chunks: Uint8Array[] = [];
  for await (const c of alice.fetchOutput(`${cluster}.0`)) chunks.push(c.data);
  // The job ran on the same node: it too sees only the stub.
  assert.equal(Buffer.concat(chunks).toString(), `${STUB_NODE_VERSION}\nran\n`);
});

test("--node names a usable Node.js, and no runtime is downloaded", async () => {
  const r = await bootstrap("good", goodSha, [
    "--node",
    join(root, "no-such-node"),
    "--max-idle",
    "0",
  ]);
  assert.match(r.stderr, /using Node.js .* \(Node.js not found \(tried .*no-such-node\)\)/);
  // The real node, bind-mounted nowhere: a copy outside the hidden path.
  const own = join(root, "own-node");
  copyFileSync(process.execPath, own);
  const r2 = await bootstrap("good", goodSha, ["--node", own, "--max-idle", "0"]);
  assert.equal(r2.code, 0, r2.stderr + r2.stdout);
  assert.doesNotMatch(r2.stderr, /staged runtime/);
});

test("a node with an old glibc ends with WN_Resource naming the runtime and both versions", async () => {
  const bin = mkdtempSync(join(root, "el7-"));
  // Stands in for an EL7 node's C library, which this machine cannot run.
  writeFileSync(join(bin, "getconf"), "#!/bin/sh\necho 'glibc 2.17'\n", { mode: 0o755 });
  const r = await bootstrap("good", goodSha, [], `${bin}:${PLAIN_PATH}`);
  assert.equal(r.code, 11, r.stderr + r.stdout);
  const f = failure(r);
  assert.equal(f.cls, "WN_Resource");
  assert.match(f.message, /needs glibc 2\.28 or later but this node has glibc 2\.17/);
  assert.match(f.message, new RegExp(runtimePath(x64).replace(/\./g, "\\.")));
});

test("a staging area without a runtime for this machine ends with WN_Resource naming what it has", async () => {
  const arm = NODE_RUNTIMES.find((p) => p.machine === "aarch64")!;
  const sha = writeArea("arm-only", (dir) => {
    writeInstallArchive(repo, dir);
    mkdirSync(join(dir, "runtime"));
    copyFileSync(join(root, "registry", runtimePath(arm)), join(dir, runtimePath(arm)));
  });
  const r = await bootstrap("arm-only", sha);
  assert.equal(r.code, 11, r.stderr + r.stdout);
  assert.match(failure(r).message, /no Node\.js runtime for x86_64 \(it has: aarch64\)/);
});

test("a tampered runtime is Corruption naming the file", async () => {
  const sha = writeArea("tampered", (dir) => {
    writeInstallArchive(repo, dir);
    mkdirSync(join(dir, "runtime"));
    copyFileSync(join(root, "registry", runtimePath(x64)), join(dir, runtimePath(x64)));
  });
  const file = join(root, "tampered", runtimePath(x64));
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
  const r = await bootstrap("tampered", sha);
  assert.equal(r.code, 16, r.stderr + r.stdout);
  assert.match(
    failure(r).message,
    new RegExp(`runtime ${runtimePath(x64)} has SHA-256 [0-9a-f]{64}, expected`),
  );
});

test("a truncated runtime that still matches its manifest is Corruption: it does not unpack", async () => {
  const sha = writeArea("truncated", (dir) => {
    writeInstallArchive(repo, dir);
    mkdirSync(join(dir, "runtime"));
    const whole = readFileSync(join(root, "registry", runtimePath(x64)));
    writeFileSync(join(dir, runtimePath(x64)), whole.subarray(0, whole.length >> 4));
  });
  const r = await bootstrap("truncated", sha);
  assert.equal(r.code, 16, r.stderr + r.stdout);
  assert.match(failure(r).message, new RegExp(`cannot unpack runtime ${runtimePath(x64)}`));
});

test("a runtime for the wrong architecture is Corruption: it does not run here", async () => {
  const arm = NODE_RUNTIMES.find((p) => p.machine === "aarch64")!;
  // The arm64 build staged under the x86_64 name: its hash is in the manifest, yet it cannot run.
  const sha = writeArea("wrong-arch", (dir) => {
    writeInstallArchive(repo, dir);
    mkdirSync(join(dir, "runtime"));
    copyFileSync(join(root, "registry", runtimePath(arm)), join(dir, "runtime", "x"));
    renameSync(join(dir, "runtime", "x"), join(dir, runtimePath(x64)));
  });
  assert.match(
    readFileSync(join(root, "wrong-arch", MANIFEST_NAME), "utf8"),
    new RegExp(
      `runtime x86_64 ${sha256Hex(readFileSync(join(root, "registry", runtimePath(arm))))}`,
    ),
  );
  const r = await bootstrap("wrong-arch", sha);
  assert.equal(r.code, 16, r.stderr + r.stdout);
  assert.match(
    failure(r).message,
    new RegExp(`runtime ${runtimePath(x64)} does not run on this x86_64 node`),
  );
});

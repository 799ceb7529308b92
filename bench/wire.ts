/**
 * Wire benchmarks. The server runs in a child process so client and server each get a core, as
 * two daemons would.
 *   wire.rpc_roundtrips: one client connection with an RFC 3820 proxy, small request and reply,
 *                        256 calls kept in flight.
 *   wire.handshakes:     new authenticated connections per second (TLS handshake, chain check at
 *                        the upgrade, WebSocket), each a new client making one call, 8 at a time.
 *                        The clients share loaded credentials, as a daemon's clients do; the
 *                        server's verifier caches verdicts per chain, as in production.
 *   wire.token_handshakes: the same with a bearer token (ES256, from a private issuer) at the
 *                        upgrade and no client certificate; the token's verdict is cached per
 *                        token as chains are. Both handshake figures also give the server's CPU
 *                        per handshake (`server_cpu_us`, user and system time of its process).
 *   wire.bad_token_verdicts: a flood of one forged token (payload changed after signing) at the
 *                        token verifier, in this process: CPU per verdict for the first (a
 *                        signature check) and for each repeat (a hash and a cache lookup).
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthorizer } from "../src/security/authz.js";
import { createIssuerKeySource } from "../src/security/token-keys.js";
import { initIssuerDir, issueToken } from "../src/security/token-issuer.js";
import { createTokenVerifier } from "../src/security/token-verify.js";
import { createRpcClient } from "../src/wire/client.js";
import { loadClientCredentials, type ClientCredentials } from "../src/wire/client-tls.js";
import { bytesCodec } from "../src/wire/registry.js";
import { createRpcServer } from "../src/wire/server.js";
import { createTestPki } from "../test/helpers/pki.js";

const SERVER_FLAG = "--wire-bench-server";
const DURATION_MS = 4_000;
const WARMUP_MS = 1_000;
const IN_FLIGHT = 256;
const HANDSHAKE_CONCURRENCY = 8;

const ISSUER = "https://issuer.bench.example.org";
const AUDIENCE = "https://bench.example.org";

type ServerArgs = { certFile: string; keyFile: string; caDir: string; jwksFile: string };

async function serve(args: ServerArgs): Promise<void> {
  const server = createRpcServer({
    certFile: args.certFile,
    keyFile: args.keyFile,
    trustDir: args.caDir,
    tokenVerifier: createTokenVerifier({
      issuers: [createIssuerKeySource(ISSUER, { jwksFile: args.jwksFile })],
      audiences: [AUDIENCE],
    }),
    authorizer: createAuthorizer({ rules: [], default_roles: ["read"] }),
  });
  server.unary(
    "bench.Echo",
    { roles: ["read"], request: bytesCodec, response: bytesCodec },
    (r) => r,
  );
  const { port } = await server.listen();
  process.send!({ port });
  process.on("message", (m) => {
    if (m === "cpu") return process.send!({ cpu: process.cpuUsage() });
    void server.close().then(() => process.exit(0));
  });
}

function startServerProcess(args: ServerArgs): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), [SERVER_FLAG, JSON.stringify(args)], {
    execArgv: process.execArgv,
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { port: number }) => resolve({ child, port: m.port }));
    child.on("error", reject);
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

async function roundTrips(url: string, credentialFile: string, caDir: string): Promise<number> {
  const client = createRpcClient({ url, credentialFile, caDir });
  await client.connected();
  const payload = Buffer.from("ping-0123456789");
  let done = 0;
  let counting = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      await client.call("bench.Echo", payload);
      if (counting) done++;
    }
  };
  const workers = Array.from({ length: IN_FLIGHT }, worker);
  await sleep(WARMUP_MS);
  counting = true;
  const start = process.hrtime.bigint();
  await sleep(DURATION_MS);
  counting = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const ops = done / seconds;
  stop = true;
  await Promise.all(workers);
  await client.close();
  return ops;
}

/** The server process's CPU time so far, in microseconds. */
function serverCpuUs(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { cpu?: NodeJS.CpuUsage }) => {
      if (!m.cpu) return;
      child.off("message", on);
      resolve(m.cpu.user + m.cpu.system);
    };
    child.on("message", on);
    child.send("cpu");
  });
}

async function handshakes(
  url: string,
  credentials: ClientCredentials,
  child: ChildProcess,
): Promise<{ opsPerS: number; serverCpuUs: number }> {
  let done = 0;
  let counting = false;
  let stop = false;
  const payload = Buffer.from("hello");
  const worker = async () => {
    while (!stop) {
      const client = createRpcClient({ url, credentials });
      await client.call("bench.Echo", payload);
      await client.close();
      if (counting) done++;
    }
  };
  const workers = Array.from({ length: HANDSHAKE_CONCURRENCY }, worker);
  await sleep(WARMUP_MS);
  const cpu0 = await serverCpuUs(child);
  counting = true;
  const start = process.hrtime.bigint();
  await sleep(DURATION_MS);
  counting = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu1 = await serverCpuUs(child);
  stop = true;
  await Promise.all(workers);
  return { opsPerS: done / seconds, serverCpuUs: done > 0 ? (cpu1 - cpu0) / done : NaN };
}

const BAD_TOKEN_REPEATS = 20_000;

/** CPU microseconds (user and system) `fn` takes. */
async function cpuUs(fn: () => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

async function badTokenVerdicts(
  jwksFile: string,
  good: string,
): Promise<{ firstUs: number; repeatUs: number }> {
  const verifier = createTokenVerifier({
    issuers: [createIssuerKeySource(ISSUER, { jwksFile })],
    audiences: [AUDIENCE],
  });
  // Load the issuer's keys first: the figure is the verdict's, not the key file's.
  if (!(await verifier.verify(good)).ok) throw new Error("the good token was refused");
  const [h, p, s] = good.split(".");
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: "root" })).toString("base64url")}.${s}`;
  const firstUs = await cpuUs(() => verifier.verify(forged));
  const total = await cpuUs(async () => {
    for (let i = 0; i < BAD_TOKEN_REPEATS; i++) {
      const v = await verifier.verify(forged);
      if (v.ok) throw new Error("a forged token was accepted");
    }
  });
  return { firstUs, repeatUs: total / BAD_TOKEN_REPEATS };
}

export async function run(): Promise<void> {
  const pki = createTestPki();
  const issuerDir = mkdtempSync(join(tmpdir(), "updraft-bench-issuer-"));
  const init = await initIssuerDir(join(issuerDir, "issuer"), ISSUER);
  if (!init.ok) throw new Error(init.reason);
  const { child, port } = await startServerProcess({
    certFile: pki.host.certFile,
    keyFile: pki.host.keyFile,
    caDir: pki.caDir,
    jwksFile: init.dir.jwksFile,
  });
  try {
    // The host certificate names 127.0.0.1 too; an address skips a resolver round per connection.
    const url = `wss://127.0.0.1:${port}/`;
    const rt = await roundTrips(url, pki.proxy.file, pki.caDir);
    process.stdout.write(
      JSON.stringify({ bench: "wire.rpc_roundtrips", ops_per_s: Math.round(rt) }) + "\n",
    );
    const report = (bench: string, r: { opsPerS: number; serverCpuUs: number }) =>
      process.stdout.write(
        JSON.stringify({
          bench,
          ops_per_s: Math.round(r.opsPerS),
          server_cpu_us: Math.round(r.serverCpuUs),
        }) + "\n",
      );
    const proxy = loadClientCredentials({ credentialFile: pki.proxy.file, caDir: pki.caDir });
    report("wire.handshakes", await handshakes(url, proxy, child));
    const token = await issueToken(join(issuerDir, "issuer"), {
      sub: "bench",
      audiences: [AUDIENCE],
      lifetimeS: 3600,
    });
    const bearer = loadClientCredentials({ bearerToken: token, caDir: pki.caDir });
    report("wire.token_handshakes", await handshakes(url, bearer, child));
    const bad = await badTokenVerdicts(init.dir.jwksFile, token);
    process.stdout.write(
      JSON.stringify({
        bench: "wire.bad_token_verdicts",
        first_cpu_us: Math.round(bad.firstUs),
        repeat_cpu_us: Number(bad.repeatUs.toFixed(2)),
      }) + "\n",
    );
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.send("stop");
    await exited;
    pki.cleanup();
    rmSync(issuerDir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (process.argv[2] === SERVER_FLAG) await serve(JSON.parse(process.argv[3]!) as ServerArgs);

/**
 * Wire benchmarks. The server runs in a child process so client and server each get a core, as
 * two daemons would.
 *   wire.rpc_roundtrips: one client connection with an RFC 3820 proxy, small request and reply,
 *                        256 calls kept in flight.
 *   wire.handshakes:     new authenticated connections per second (TLS handshake, chain check at
 *                        the upgrade, WebSocket), each a new client making one call, 8 at a time.
 *                        The clients share loaded credentials, as a daemon's clients do; the
 *                        server's verifier caches verdicts per chain, as in production.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createAuthorizer } from "../src/security/authz.js";
import { createRpcClient } from "../src/wire/client.js";
import { loadClientCredentials } from "../src/wire/client-tls.js";
import { bytesCodec } from "../src/wire/registry.js";
import { createRpcServer } from "../src/wire/server.js";
import { createTestPki } from "../test/helpers/pki.js";

const SERVER_FLAG = "--wire-bench-server";
const DURATION_MS = 4_000;
const WARMUP_MS = 1_000;
const IN_FLIGHT = 256;
const HANDSHAKE_CONCURRENCY = 8;

type ServerArgs = { certFile: string; keyFile: string; caDir: string };

async function serve(args: ServerArgs): Promise<void> {
  const server = createRpcServer({
    certFile: args.certFile,
    keyFile: args.keyFile,
    trustDir: args.caDir,
    authorizer: createAuthorizer({ rules: [], defaultRoles: ["read"] }),
  });
  server.unary(
    "bench.Echo",
    { roles: ["read"], request: bytesCodec, response: bytesCodec },
    (r) => r,
  );
  const { port } = await server.listen();
  process.send!({ port });
  process.on("message", () => void server.close().then(() => process.exit(0)));
}

function startServerProcess(args: ServerArgs): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), [SERVER_FLAG, JSON.stringify(args)], {
    execArgv: process.execArgv,
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { port: number }) => resolve({ child, port: m.port }));
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

async function handshakes(url: string, credentialFile: string, caDir: string): Promise<number> {
  let done = 0;
  let counting = false;
  let stop = false;
  const payload = Buffer.from("hello");
  const credentials = loadClientCredentials({ credentialFile, caDir });
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
  counting = true;
  const start = process.hrtime.bigint();
  await sleep(DURATION_MS);
  counting = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  stop = true;
  await Promise.all(workers);
  return done / seconds;
}

export async function run(): Promise<void> {
  const pki = createTestPki();
  const { child, port } = await startServerProcess({
    certFile: pki.host.certFile,
    keyFile: pki.host.keyFile,
    caDir: pki.caDir,
  });
  try {
    // The host certificate names 127.0.0.1 too; an address skips a resolver round per connection.
    const url = `wss://127.0.0.1:${port}/`;
    const rt = await roundTrips(url, pki.proxy.file, pki.caDir);
    process.stdout.write(
      JSON.stringify({ bench: "wire.rpc_roundtrips", ops_per_s: Math.round(rt) }) + "\n",
    );
    const hs = await handshakes(url, pki.proxy.file, pki.caDir);
    process.stdout.write(
      JSON.stringify({ bench: "wire.handshakes", ops_per_s: Math.round(hs) }) + "\n",
    );
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.send("stop");
    await exited;
    pki.cleanup();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (process.argv[2] === SERVER_FLAG) await serve(JSON.parse(process.argv[3]!) as ServerArgs);

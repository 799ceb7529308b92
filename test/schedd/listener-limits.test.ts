/**
 * The schedd's listener with its documented defaults, at a real schedd: TLS 1.3 only, a 4 MiB
 * message limit, at most 32 calls at once per connection, and a socket that does not
 * authenticate closed after the handshake timeout (10 s by default; 1 s here to wait less).
 */
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { scheddClient } from "../../src/schedd/client.js";
import { scheddConfigSchema } from "../../src/schedd/config.js";
import { startSchedd } from "../../src/schedd/schedd.js";
import { createRpcClient } from "../../src/wire/index.js";
import { codeOf, job, scheddConfig, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { connections: { handshake_timeout_s: 1 } } });
});
after(() => env.close());

const port = () => Number(new URL(env.schedd.url()).port);

test("the documented defaults: 4 MiB messages, 32 calls per connection, 10 s to authenticate, TLS 1.3", () => {
  const c = scheddConfigSchema.parse({
    listen: { port: 0 },
    tls: { cert_file: "c", key_file: "k", trust_dir: "t" },
    state_dir: "s",
    authorization: {},
  });
  assert.equal(c.max_message_mb, 4);
  assert.equal(c.connections.max_calls_per_connection, 32);
  assert.equal(c.connections.handshake_timeout_s, 10);
  assert.equal(c.tls.min_version, "1.3");
});

test("a TLS 1.2 client is refused at the handshake", async () => {
  const outcome = await new Promise<string>((resolve) => {
    const s = tlsConnect({
      host: "127.0.0.1",
      port: port(),
      maxVersion: "TLSv1.2",
      ca: readFileSync(env.pki.caCertFile),
      servername: "localhost",
    });
    s.once("secureConnect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("error", (err: Error & { code?: string }) => resolve(String(err.code ?? err.message)));
  });
  assert.match(outcome, /VERSION|PROTOCOL|ALERT/i, outcome);
});

test("a socket that never starts TLS is closed by the schedd after the handshake timeout", async () => {
  const closed = await new Promise<boolean>((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port: port() });
    const guard = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 30_000);
    s.once("close", () => {
      clearTimeout(guard);
      resolve(true);
    });
    s.on("error", () => undefined);
  });
  assert.equal(closed, true, "the silent socket was still open after 30 s");
});

test("a message over 4 MiB costs its connection, the call saying frame-too-large; a new connection works", async () => {
  // A client that would send up to 16 MiB, so the schedd's own limit is what refuses it.
  const rpc = createRpcClient({
    url: env.schedd.url(),
    credentialFile: env.pki.proxy.file,
    caDir: env.pki.caDir,
    maxFrameSize: 16 * 1024 * 1024,
    backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
  });
  const alice = scheddClient(rpc);
  try {
    const cluster = await alice.newCluster();
    const big = job({ Blob: `"${"x".repeat(5 * 1024 * 1024)}"` });
    await assert.rejects(
      alice.submitJobs(cluster, [big]),
      (e: Error & { details?: Record<string, string> }) =>
        codeOf(e) === "unavailable" && e.details?.cause === "frame-too-large",
    );
    const ok = await alice.newCluster();
    assert.ok(ok > cluster);
  } finally {
    await rpc.close();
  }
});

test("the 33rd call running at once on one connection is refused with too-many-calls", async () => {
  const rpc = createRpcClient({
    url: env.schedd.url(),
    credentialFile: undefined,
    certPem: env.creds.pilot.certPem,
    keyPem: env.creds.pilot.keyPem,
    caDir: env.pki.caDir,
    maxCallsInFlight: 1000, // past the schedd's limit: the schedd is what refuses
    backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
  });
  const pilot = scheddClient(rpc);
  try {
    await pilot.claimJob(slot({ Requirements: "false" })); // connected, nothing to claim
    // Each waits for a job that never comes: 33 calls held open at once.
    const waits = Array.from({ length: 33 }, (_, i) =>
      pilot.claimJob(slot({ Name: `"slot${i}@glidein_1"`, Requirements: "false" }), 3).then(
        () => "ok",
        (e) => String(codeOf(e)),
      ),
    );
    const outcomes = await Promise.all(waits);
    assert.equal(outcomes.filter((o) => o === "too-many-calls").length, 1, outcomes.join(","));
    assert.equal(outcomes.filter((o) => o === "ok").length, 32);
  } finally {
    await rpc.close();
  }
});

test("a schedd whose key file others can read refuses to start and says to chmod 600 it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-keymode-"));
  try {
    const key = join(dir, "hostkey.pem");
    copyFileSync(env.pki.host.keyFile, key);
    const config = scheddConfig(env.pki, join(dir, "state"));
    const withKey = { ...config, tls: { ...config.tls, key_file: key } };
    for (const mode of [0o644, 0o640, 0o606]) {
      chmodSync(key, mode);
      await assert.rejects(
        startSchedd({ config: withKey, timers: false }),
        new RegExp(
          `tls.key_file ${key} can be read or written by others \\(mode 0${mode.toString(8)}\\); chmod 600`,
        ),
      );
    }
    chmodSync(key, 0o400);
    const s = await startSchedd({ config: withKey, timers: false });
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

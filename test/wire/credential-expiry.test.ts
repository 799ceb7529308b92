import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writePrivateFile } from "../../src/security/ca-dir.js";
import { createProxy } from "../../src/security/proxy.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import type { RpcClient } from "../../src/wire/index.js";
import type { ConnectionStatus } from "../../src/wire/status.js";
import { connect, eventually, serverPerFile } from "./harness.js";

const world = serverPerFile();

test("the server ends a connection when the client's proxy expires", async () => {
  const shortLived = world.pki.proxyOf(world.pki.user, { hours: 4 / 3600 }); // four seconds
  const client = connect(world.ts, world.pki, { credentialFile: shortLived.file });
  const seen: ConnectionStatus[] = [];
  const off = client.onStatus((s) => seen.push(s));
  try {
    await client.call("test.Echo", Buffer.from("while valid"));
    await eventually(
      () => seen.some((s) => s.type === "disconnected" && s.error?.code === "unauthenticated"),
      15_000,
      "expiry close",
    );
    await assert.rejects(
      client.call("test.Echo", Buffer.from("after expiry")),
      (e: Error & { code?: string }) => e.code === "unauthenticated",
    );
  } finally {
    off();
    await client.close();
  }
});

/** Two calls a while apart, and every status the client published meanwhile. */
async function twoCalls(client: RpcClient): Promise<{ errors: Error[]; seen: ConnectionStatus[] }> {
  const seen: ConnectionStatus[] = [client.status];
  const off = client.onStatus((st) => seen.push(st));
  const errors: Error[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      await client.call("test.Echo", Buffer.from("hello")).then(
        () => assert.fail("a call with an expired credential was answered"),
        (e: Error) => errors.push(e),
      );
      await new Promise((r) => setTimeout(r, 300)); // several backoff periods (20-200 ms)
    }
  } finally {
    off();
    await client.close();
  }
  return { errors, seen };
}

function assertStoppedSayingSo(r: { errors: Error[]; seen: ConnectionStatus[] }, hint: RegExp) {
  for (const e of r.errors) {
    const err = e as Error & { code?: string; details?: Record<string, string> };
    assert.equal(err.code, "unauthenticated");
    assert.equal(err.details?.cause, "credential-expired");
    assert.match(err.message, /your credential expired at 20\d\d-/);
    assert.match(err.message, hint);
  }
  assert.equal(r.errors.length, 2);
  assert.deepEqual(
    r.seen.filter((st) => st.type === "connecting" || st.type === "connected"),
    [],
    "the client tried to connect with an expired credential",
  );
}

test("a client whose proxy has expired says so and never connects, however often it is asked", async () => {
  const pem = createProxy({
    certChainPem: world.pki.user.certPem,
    keyPem: world.pki.user.keyPem,
    hours: 1,
    now: new Date(Date.now() - 2 * 3_600_000),
  });
  const dir = mkdtempSync(join(tmpdir(), "updraft-expired-"));
  try {
    const file = join(dir, "x509up_expired");
    writePrivateFile(file, pem);
    const r = await twoCalls(connect(world.ts, world.pki, { credentialFile: file }));
    assertStoppedSayingSo(r, /grid-proxy-init, voms-proxy-init or updraft proxy init/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a client whose bearer token has expired says so, names where to get one, and never connects", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-expired-"));
  try {
    const init = await initIssuerDir(dir, "https://tokens.example.org");
    assert.ok(init.ok);
    const token = await issueToken(dir, {
      sub: "alice",
      audiences: [world.ts.url],
      lifetimeS: -60,
    });
    const r = await twoCalls(
      connect(world.ts, world.pki, { credentialFile: undefined, bearerToken: token }),
    );
    assertStoppedSayingSo(r, /get a new token/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The ARC adapter with `frontend_tokens`, at a real A-REX 6.17 that admits one issuer's tokens
 * whose audience is its own endpoint (`authtokens` with the audience pinned): pilots are
 * submitted, watched, read and removed with the token file the frontend's request carried, the
 * pilot credential is delegated over that token connection and reaches the pilot as
 * `X509_USER_PROXY`, a renewed token of the same subject keeps sight of the jobs (A-REX keeps a
 * job for the token's `iss` and `sub`), another subject's token does not see them, a token for
 * another audience is refused by the CE, and no token reaches the log or the journal.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { createArcAdapter } from "../../../src/factory/adapters/arc/arc-adapter.js";
import { createArcRestClient } from "../../../src/factory/adapters/arc/rest-client.js";
import { parseArcSettings } from "../../../src/factory/adapters/arc/settings.js";
import type { GridAdapter, PilotSpec } from "../../../src/factory/adapters/types.js";
import { startArcPeer, type ArcPeer } from "../../helpers/arc-peer.js";
import { startHttpsIssuer, type HttpsIssuer } from "../../helpers/https-issuer.js";
import { createTestPki } from "../../helpers/pki.js";

const pki = createTestPki();
const dir = mkdtempSync(join(tmpdir(), "updraft-arc-fe-token-"));
let issuer: HttpsIssuer;
let arc: ArcPeer;
const logLines: string[] = [];
const logger = pino(
  { level: "debug" },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  }),
);
const SCOPE = "compute.create compute.read compute.modify compute.cancel";
const tokens: string[] = [];

before(async () => {
  issuer = await startHttpsIssuer(pki, dir);
  arc = await startArcPeer({
    pki,
    allowedDns: [],
    tokenIssuer: issuer.url,
    pinTokenAudience: true,
  });
});
after(async () => {
  await arc?.stop();
  issuer?.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A token of `sub` for `aud` written to `file` (0600), as the factory stores a CE token. */
async function writeToken(file: string, sub: string, aud = arc.endpoint): Promise<string> {
  const jwt = await issuer.issue({ sub, audiences: [aud], scope: SCOPE, lifetimeS: 600 });
  tokens.push(jwt);
  writeFileSync(file, `${jwt}\n`, { mode: 0o600 });
  return file;
}

function pilotScript(name: string, body: string): string {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
}

function spec(intentId: number, command: string, submitTokenFile?: string): PilotSpec {
  return {
    intentId,
    command,
    args: [],
    env: {},
    credentialFile: pki.proxy.file,
    ...(submitTokenFile !== undefined ? { submitTokenFile } : {}),
    resources: { cpus: 1, memoryMb: 128, walltimeS: 600 },
  };
}

const stateDir = join(dir, "state");
const adapter = (): GridAdapter =>
  createArcAdapter(
    { endpoint: arc.endpoint, ca_dir: pki.caDir, frontend_tokens: true },
    { stateDir, logger, now: Date.now },
  );

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test(
  "pilots go to A-REX with the frontend's token, keep their delegated proxy, and are watched and removed with its renewal",
  { timeout: 120_000 },
  async () => {
    const tokenFile = await writeToken(join(dir, "submit-token"), "vo-frontend");
    const a = adapter();
    after(() => a.close());
    const proxyCheck = pilotScript(
      "proxy-check",
      'openssl x509 -in "$X509_USER_PROXY" -noout -subject -nameopt compat',
    );
    const sleeper = pilotScript("sleeper", "sleep 300");
    const results = await a.submit([spec(1, proxyCheck, tokenFile), spec(2, sleeper, tokenFile)]);
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results),
    );
    const [done, asleep] = results.map((r) => (r.ok ? r.handle : ""));

    // The frontend renews its token: same subject, new token in the same file.
    await writeToken(tokenFile, "vo-frontend");
    await until(
      async () => ((await a.status([done!])).get(done!)?.state === "Finished" ? true : undefined),
      90_000,
      "the proxy-checking pilot finished",
    );
    const out = await a.fetchOutput(done!);
    assert.match(out.stdout, new RegExp(`subject=${pki.user.subject}/CN=\\d+`), out.stderr);

    // Another subject of the same issuer does not see the jobs.
    const stranger = await writeToken(join(dir, "stranger"), "someone-else");
    const c = createArcRestClient(
      parseArcSettings({ endpoint: arc.endpoint, ca_dir: pki.caDir, frontend_tokens: true }),
    );
    after(() => c.close());
    const seen = (await c.postJson("/jobs?action=status", { job: [{ id: asleep }] }, stranger)) as {
      job: { "status-code": string };
    };
    assert.equal(seen.job["status-code"], "404");

    await a.remove([asleep!]);
    await until(
      async () => {
        const s = (await a.status([asleep!])).get(asleep!)?.state;
        return s === "Removed" || s === "Finished" ? s : undefined;
      },
      60_000,
      "the removed pilot's end",
    );

    // A restarted adapter finds its jobs again, asking with the journaled token file.
    const again = adapter();
    after(() => again.close());
    const recovered = await again.recover();
    assert.deepEqual(recovered.map((r) => r.handle).sort(), [done, asleep].sort());
    assert.ok(
      recovered.every((r) => r.status.state !== "Unknown" && r.status.state !== "Held"),
      JSON.stringify(recovered),
    );

    const journal = readFileSync(join(stateDir, "arc-jobs.jsonl"), "utf8");
    assert.match(journal, /"bearer":/);
    for (const t of tokens) {
      assert.ok(!journal.includes(t), "a token in the journal");
      assert.ok(!logLines.join("").includes(t), "a token in the log");
    }
  },
);

test(
  "one owner's unreadable token holds only its own pilots' status, without its text",
  { timeout: 60_000 },
  async () => {
    const a = adapter();
    after(() => a.close());
    const fileA = await writeToken(join(dir, "token-a"), "vo-a");
    const fileB = await writeToken(join(dir, "token-b"), "vo-b");
    const sleeper = pilotScript("sleeper-ab", "sleep 300");
    const results = await a.submit([spec(20, sleeper, fileA), spec(21, sleeper, fileB)]);
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results),
    );
    const [ha, hb] = results.map((r) => (r.ok ? r.handle : ""));
    writeFileSync(fileB, "GARBAGE-TOKEN-TEXT\n", { mode: 0o600 });
    const st = await a.status([ha!, hb!]);
    assert.ok(["Idle", "Running"].includes(st.get(ha!)!.state), JSON.stringify(st.get(ha!)));
    const b = st.get(hb!)!;
    assert.equal(b.state, "Held");
    assert.match(b.holdReason ?? "", /submit token .*: not a JWT/);
    assert.ok(!(b.holdReason ?? "").includes("GARBAGE"), b.holdReason);
    await writeToken(fileB, "vo-b");
    await a.remove([ha!, hb!]);
  },
);

test("a pilot without the frontend's token is refused before anything is sent", async () => {
  const a = adapter();
  after(() => a.close());
  const [r] = await a.submit([spec(10, "/bin/true")]);
  assert.equal(r?.ok, false);
  assert.match(r.ok ? "" : r.error, /frontend_tokens/);
});

test("A-REX refuses a token of its issuer whose audience is another CE", async () => {
  const other = await writeToken(
    join(dir, "other-aud"),
    "vo-frontend",
    "https://ce.example:443/arex",
  );
  const c = createArcRestClient(
    parseArcSettings({ endpoint: arc.endpoint, ca_dir: pki.caDir, frontend_tokens: true }),
  );
  after(() => c.close());
  const r = await c.call("POST", "/jobs?action=new", {
    body: '&(executable="/bin/true")(jobname="other-aud")',
    contentType: "application/rsl",
    bearer: other,
  });
  assert.equal(r.status, 403, r.body.toString("utf8"));
});

test("frontend_tokens takes no client credential of the entry's own", () => {
  assert.throws(
    () =>
      parseArcSettings({
        endpoint: "https://ce.example/arex",
        ca_dir: "/x",
        frontend_tokens: true,
        client_proxy: "/p",
      }),
    /frontend_tokens: frontend_tokens submits with each frontend's token/,
  );
  assert.equal(
    parseArcSettings({ endpoint: "https://ce.example/arex", ca_dir: "/x", frontend_tokens: true })
      .frontend_tokens,
    true,
  );
});

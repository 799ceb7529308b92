/**
 * A real collector with a `tokens` block: a pilot token (role from its group) advertises a Slot
 * ad stored under `<iss>#<sub>`; a token for another audience, or from an issuer the collector
 * does not list, is refused, the collector counting the check that failed and naming it to the
 * client (`updraft status` says which and what to do).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createRpcClient, type RpcClient } from "../../src/wire/client.js";
import { runCli } from "../cli/run-cli.js";
import { createPool, slotAd, startCollector, tempDir, type Pool, type Running } from "./harness.js";

const ISS = "https://tokens.pool.example.org";
const AUD = "wss://collector.pool.example.org:9618/";
let pool: Pool;
let c: Running;
let dir: ReturnType<typeof tempDir>;
const rpcs: RpcClient[] = [];

before(async () => {
  pool = createPool();
  dir = tempDir();
  const init = await initIssuerDir(dir.dir, ISS);
  assert.ok(init.ok);
  const base = pool.config();
  c = await startCollector(
    pool,
    pool.config({
      tokens: { issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }], audiences: [AUD] },
      authorization: {
        rules: [
          ...base.authorization.rules,
          { issuer: ISS, group: "/vo/pilots", roles: ["pilot", "read"] },
        ],
      },
    }),
  );
});
after(async () => {
  for (const r of rpcs) await r.close();
  await c.stop();
  dir.cleanup();
  pool.cleanup();
});

function withToken(token: string) {
  const rpc = createRpcClient({
    url: c.url,
    caDir: pool.pki.caDir,
    bearerToken: token,
    backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
  });
  rpcs.push(rpc);
  return createCollectorClient(rpc);
}

const pilotToken = (aud = AUD) =>
  issueToken(dir.dir, { sub: "pilot-1", audiences: [aud], groups: ["/vo/pilots"], lifetimeS: 600 });

test("a pilot token advertises a Slot ad under <iss>#<sub>", async () => {
  const pilot = withToken(await pilotToken());
  const [out] = await pilot.advertise([slotAd(1)]);
  assert.equal(out!.ok, true, JSON.stringify(out));
  const [ad] = await c.as("reader").query({ type: "Slot", projection: ["AuthenticatedIdentity"] });
  assert.equal(ad!.AuthenticatedIdentity, JSON.stringify(`${ISS}#pilot-1`));
});

/** How many connections the collector refused for `cause`, from its own metrics. */
async function refusedFor(cause: string): Promise<number> {
  const m = await c.daemon.metrics.getSingleMetric("updraft_refused_connections_total")!.get();
  return m.values.find((v) => v.labels.cause === cause)?.value ?? 0;
}

test("a token for another audience or from an unlisted issuer is refused, the collector naming the check", async () => {
  const audienceBefore = await refusedFor("token-audience");
  const elsewhere = withToken(await pilotToken("wss://other.example.org/"));
  // The holder is told which check failed (RFC 6750's challenge), and what to do next.
  await assert.rejects(
    elsewhere.advertise([slotAd(2)]),
    /bearer token was not accepted \(check: audience\): its audience does not name this service/,
  );
  assert.ok((await refusedFor("token-audience")) > audienceBefore);
  const foreign = tempDir();
  try {
    assert.ok((await initIssuerDir(foreign.dir, "https://evil.example.org")).ok);
    const issuerBefore = await refusedFor("token-issuer");
    const t = await issueToken(foreign.dir, { sub: "x", audiences: [AUD], lifetimeS: 600 });
    await assert.rejects(
      withToken(t).advertise([slotAd(3)]),
      /bearer token was not accepted \(check: issuer\)/,
    );
    assert.ok((await refusedFor("token-issuer")) > issuerBefore);
    const file = join(foreign.dir, "token");
    writeFileSync(file, t, { mode: 0o600 });
    const cli = await runCli(["status", "--pool", c.url, "--token", file], {
      PATH: process.env.PATH,
      HOME: foreign.dir,
      UPDRAFT_CONFIG: join(foreign.dir, "no-client.yaml"),
      X509_CERT_DIR: pool.pki.caDir,
    });
    assert.equal(cli.code, 1, cli.stdout);
    assert.match(
      cli.stderr,
      /the collector at wss:\S+ refused the bearer token in \S+token \(--token\): the bearer token was not accepted \(check: issuer\): its issuer is not one this service trusts; use a token from an issuer this service trusts/,
    );
    assert.ok(!cli.stderr.includes(t.split(".")[2]!), "the token is not echoed");
  } finally {
    foreign.cleanup();
  }
});

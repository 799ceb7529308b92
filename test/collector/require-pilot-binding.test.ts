/**
 * `require_pilot_binding` at a real collector: a shared pilot credential copied off a node (the
 * pilot proxy, or a token without a binding) cannot write the Slot ads the frontend counts, while
 * a per-pilot token still advertises its slot and an admin may still write any ad.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCollectorClient } from "../../src/collector/client.js";
import { pilotBindingClaim, PILOT_BINDING_CLAIM } from "../../src/security/pilot-binding.js";
import { createProxy } from "../../src/security/proxy.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { createPool, DN, slotAd, startCollector, type Pool, type Running } from "./harness.js";

const ISS = "https://frontend.example.org/pilots";
let pool: Pool;
let collector: Running;
let dir: string;

before(async () => {
  pool = createPool();
  dir = mkdtempSync(join(tmpdir(), "updraft-collector-require-binding-"));
  const init = await initIssuerDir(join(dir, "issuer"), ISS);
  assert.ok(init.ok);
  const base = pool.config();
  collector = await startCollector(
    pool,
    pool.config({
      require_pilot_binding: true,
      tokens: {
        issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }],
        accept_any_audience: true,
      },
      authorization: {
        rules: [...base.authorization.rules, { issuer: ISS, roles: ["pilot", "read"] }],
      },
    }),
  );
});
after(async () => {
  await collector.stop();
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function tokenClient(sub: string, binding: boolean) {
  const token = await issueToken(join(dir, "issuer"), {
    sub,
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    lifetimeS: 600,
    ...(binding
      ? {
          extra: {
            [PILOT_BINDING_CLAIM]: pilotBindingClaim({
              frontend: "fe",
              group: "main",
              entry: "entry_a",
              site: "SITE_A",
              pilotId: sub,
            }),
          },
        }
      : {}),
  });
  const rpc = createRpcClient({ url: collector.url, bearerToken: token, caDir: pool.pki.caDir });
  after(() => rpc.close());
  return createCollectorClient(rpc);
}

/** Idle slots claiming to be the frontend's pilots: enough of them would stop its requests. */
const forged = (from: number) =>
  Array.from({ length: 20 }, (_, i) =>
    slotAd(from + i, { GLIDECLIENT_Name: '"fe.main"', GLIDEIN_Site: '"SITE_A"' }),
  );

test("a stolen shared pilot proxy writes none of its 20 forged idle Slot ads", async () => {
  const outcomes = await collector.as("pilot").advertise(forged(100), "Slot");
  assert.equal(outcomes.length, 20);
  for (const o of outcomes) {
    assert.equal(o.ok, false, JSON.stringify(o));
    assert.equal(o.code, "permission-denied");
    assert.equal(o.attribute, "MyType");
    assert.match(
      o.message,
      /this collector takes Slot ads only from pilot credentials with a binding; \/DC=org\/DC=example\/OU=Pilots\/CN=pilot has none/,
    );
  }
  const stored = await collector.as("reader").query({ type: "Slot", constraint: "" });
  assert.deepEqual(stored, [], "nothing the frontend could count");
});

test("a shared pilot token without a binding is refused the same way, in any spelling of the type", async () => {
  const c = await tokenClient("shared", false);
  for (const type of ["Slot", "slot", "SLOT"]) {
    const [o] = await c.advertise([slotAd(200, { MyType: JSON.stringify(type) })], type);
    assert.equal(o?.ok, false, `${type}: ${JSON.stringify(o)}`);
    assert.match(o.message, /only from pilot credentials with a binding; .*#shared has none/);
  }
  const stored = await collector.as("reader").query({ type: "Slot", constraint: "" });
  assert.deepEqual(stored, []);
});

test("a per-pilot token still advertises its slot, stamped with its binding", async () => {
  const c = await tokenClient("p1", true);
  const [o] = await c.advertise([slotAd(300, { GLIDEIN_Site: '"SITE_A"' })], "Slot");
  assert.ok(o?.ok, JSON.stringify(o));
  const [ad] = await collector.as("reader").query({ type: "Slot", constraint: "" });
  assert.equal(ad?.AuthenticatedIdentity, JSON.stringify(`${ISS}#p1`));
  assert.equal(ad?.GLIDEIN_Entry_Name, '"entry_a"');
});

test("an admin may still write a Slot ad, and the unbound pilot its other ad types' refusals stay as before", async () => {
  const [o] = await collector.as("admin").advertise([slotAd(400)], "Slot");
  assert.ok(o?.ok, JSON.stringify(o));
  // The pilot role never wrote GlideClient ads: that refusal still names the role, not the binding.
  const [g] = await collector
    .as("pilot")
    .advertise([{ MyType: '"GlideClient"', Name: '"x"' }], "GlideClient");
  assert.equal(g?.ok, false);
  assert.match(g!.message, /writing GlideClient ads needs role frontend/);
});

test("per-pilot proxies of one certificate each advertise their own slot, under their own pilot identity", async () => {
  const cred = pool.creds.pilot;
  const proxyClient = (pilotId: string) => {
    const pem = createProxy({
      certChainPem: cred.certPem,
      keyPem: cred.keyPem,
      hours: 1,
      binding: { frontend: "fe", group: "main", entry: "entry_a", site: "SITE_A", pilotId },
    });
    const file = join(dir, `pilot-${pilotId}.proxy`);
    writeFileSync(file, pem, { mode: 0o600 });
    const rpc = createRpcClient({
      url: collector.url,
      credentialFile: file,
      caDir: pool.pki.caDir,
    });
    after(() => rpc.close());
    return createCollectorClient(rpc);
  };
  const a = proxyClient("41");
  const b = proxyClient("42");
  const [oa] = await a.advertise([slotAd(500, { GLIDEIN_Site: '"SITE_A"' })], "Slot");
  const [ob] = await b.advertise([slotAd(501, { GLIDEIN_Site: '"SITE_A"' })], "Slot");
  assert.ok(oa?.ok && ob?.ok, JSON.stringify([oa, ob]));
  const ads = await collector
    .as("reader")
    .query({ type: "Slot", constraint: 'regexp("@glidein_50[01]@", Name)' });
  assert.deepEqual(ads.map((ad) => JSON.parse(ad.AuthenticatedIdentity!) as string).sort(), [
    `${DN.pilot}#pilot-41`,
    `${DN.pilot}#pilot-42`,
  ]);
  // One pilot's proxy cannot overwrite the other's slot, nor advertise for another site.
  const [stolen] = await b.advertise([slotAd(500, { GLIDEIN_Site: '"SITE_A"' })], "Slot");
  assert.equal(stolen?.ok, false, JSON.stringify(stolen));
  assert.equal(stolen?.code, "permission-denied");
  const [away] = await a.advertise([slotAd(500, { GLIDEIN_Site: '"SITE_B"' })], "Slot");
  assert.match(away!.message, /GLIDEIN_Site contradicts the pilot credential's binding/);
});

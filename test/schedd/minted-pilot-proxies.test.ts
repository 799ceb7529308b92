/**
 * Per-pilot proxies minted by the frontend (credential `type: pilot_proxies`), carried through the
 * factory, used at a real schedd with `require_pilot_binding`. The frontend's own proxy is one the
 * real grid-proxy-init made; the frontend's cycle signs one bound proxy per pilot from it and
 * seals the batch to the factory's key, the factory's cycle gives each pilot its own proxy, and
 * each proxy claims only within its binding, touches no other pilot's lease, and is refused once
 * its pilot id is revoked. The factory's collector and CE are stand-ins (named so below): what is
 * under test is what the frontend sends, what the factory hands each pilot, and the schedd.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pino } from "pino";
import type { CollectorClient } from "../../src/collector/client.js";
import type { GridAdapter, PilotSpec } from "../../src/factory/adapters/types.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache, storePilotProxyBatch } from "../../src/factory/credentials.js";
import { runCycle as runFactoryCycle } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { createCredentialSealer } from "../../src/frontend/credential-seal.js";
import { runCycle } from "../../src/frontend/cycle.js";
import { attachPilotProxies, mintPilotProxyBatch } from "../../src/frontend/pilot-proxies.js";
import { OID, parseCertificate, pemCertificates } from "../../src/security/cert-info.js";
import {
  decryptCredential,
  encryptCredential,
  pubKeyId,
} from "../../src/security/credential-crypto.js";
import { parsePilotBinding, isPilotBinding } from "../../src/security/pilot-binding.js";
import { readCredentialFile } from "../../src/security/credential-file.js";
import { loadTrustDir } from "../../src/security/trust.js";
import { verifyChain } from "../../src/security/verify.js";
import { entryAd, snapshot } from "../frontend/helpers.js";
import { startPilotProxySchedd, type PilotProxySchedd } from "../helpers/pilot-proxy-schedd.js";
import { DN, codeOf, job, slot, submit, type TestEnv } from "./harness.js";

const log = pino({ level: "silent" });
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const factoryPublicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
const factoryPrivatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

let ps: PilotProxySchedd;
let env: TestEnv;
let dir: string;
let frontendProxy: string;
let revokedFile: string;

before(async () => {
  ps = await startPilotProxySchedd("updraft-minted-proxies-", "# revoked pilots\n");
  ({ env, dir, frontendProxy, revokedFile } = ps);
});
after(() => ps.close());

/** The frontend's cycle for `idle` of alice's jobs: one GlideClient ad, its proxies to mint. */
function frontendCycle(idle: number, batchMax = 10) {
  const config = parseFrontendConfig(
    `
name: fe1
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ type: pilot_proxies, file: ${frontendProxy}, security_class: main }]
  pilot_proxies: { lifetime_s: 3600, batch_max: ${batchMax} }
factories: [{ name: f, identity: /CN=f }]
groups:
  - name: main
    start_expr: TARGET.Owner == "alice"
    limits: { ramp_up_attenuation: 1 }
`,
    "fe.yaml",
  );
  const snap = snapshot({
    autoclusters: [
      { id: "1", schedd: "s", count: idle, job: { RequestCpus: "1", Owner: '"alice"' } },
    ],
    factory_ads: [
      entryAd("Entry_A@f", {
        EntryName: "Entry_A",
        FactoryName: "f",
        GLIDEIN_Site: "Site_A",
        PubKeyValue: factoryPublicPem,
      }),
    ],
  });
  const result = runCycle({
    config,
    snapshot: snap,
    credentials: new Map([[frontendProxy, readFileSync(frontendProxy)]]),
    previousClientAds: [],
    now: 1_790_000_000,
  });
  return { config, result };
}

/** The factory's cycle on the frontend's request; the file each pilot was given, in order. */
async function factoryGives(request: Record<string, string>): Promise<string[]> {
  const work = mkdtempSync(join(dir, "factory-"));
  const factoryConfig = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: { cert_file: "x", key_file: "x", rsa_private_key_file: "x", rsa_public_key_file: "x" },
    work_dir: work,
    security: { frontends: [{ name: "fe1", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "Entry_A", gridtype: "fake", pilot: { command: "/bin/true" } }],
  });
  // Stand-ins for the factory's collector and CE: they return the request and accept every pilot.
  const collector = {
    advertise: async () => [],
    query: async (q: { type?: string }) => (q.type === "GlideClient" ? [request] : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const given: string[] = [];
  const adapter: GridAdapter = {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 10, output: false },
    async submit(batch: readonly PilotSpec[]) {
      return batch.map((p) => {
        given.push(p.credentialFile!);
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    status: async (hs) =>
      new Map(hs.map((h) => [h, { handle: h, state: "Finished" as const, exitCode: 0 }])),
    remove: async () => undefined,
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () => [],
    close: async () => undefined,
  };
  const store = new FactoryStore(join(work, "f.db"));
  after(() => store.close());
  const deps = {
    config: factoryConfig,
    store,
    adapters: new Map([["Entry_A", adapter]]),
    collector,
    logger: log,
    now: Date.now,
    keys: { privatePem: factoryPrivatePem, publicPem: factoryPublicPem, id: "" },
    credentialDir: join(work, "creds"),
    credentialCache: new CredentialCache(),
  };
  deps.keys.id = pubKeyId(factoryPublicPem);
  await runFactoryCycle(deps);
  const first = given.length;
  await runFactoryCycle(deps);
  assert.equal(given.length, first, "the same batch read again starts no pilot with a used proxy");
  return given;
}

function pilotIdOf(file: string): string {
  const leaf = parseCertificate(pemCertificates(readFileSync(file, "latin1"))[0]!);
  assert.equal(leaf.proxyCertInfo?.policyLanguage, OID.policyPilotBinding);
  const b = parsePilotBinding(JSON.parse(leaf.proxyCertInfo.policy!.toString("utf8")));
  assert.ok(isPilotBinding(b), JSON.stringify(b));
  return b.pilotId!;
}

const pilotWith = (file: string) => ps.pilotClient({ credentialFile: file });

let pilots: string[] = [];

test("the frontend signs one bound proxy per pilot from its own proxy, which it never sends", async () => {
  const { config, result } = frontendCycle(3);
  assert.equal(result.pendingTokens.length, 1);
  assert.equal(result.pendingTokens[0]!.count, 3);
  const r = await attachPilotProxies(
    result.pendingTokens,
    result.glideClientAds,
    config.security.pilot_proxies,
    createCredentialSealer(),
    log,
  );
  assert.deepEqual(r, { minted: 3, failed: 0 });
  const ad = result.glideClientAds[0]!;
  assert.equal(ad.evaluate("GlideinCredentialType"), "pilot_proxies");
  const batch = decryptCredential(
    ad.evaluate("GlideinEncParamCredential") as string,
    factoryPrivatePem,
  ).toString("latin1");
  const own = readCredentialFile(readFileSync(frontendProxy, "latin1"));
  assert.ok(!batch.includes(own.keyPem!.split("\n")[1]!), "the frontend's key is not in the batch");
  assert.ok(batch.includes(own.chainPem[0]!), "its certificate is, as the pilots' issuer");

  pilots = await factoryGives({ ...ad.toJSON(), AuthenticatedIdentity: '"/CN=fe"' });
  assert.equal(pilots.length, 3, "three pilots, three proxies");
  const trust = loadTrustDir(env.pki.caDir);
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const file of pilots) {
    const text = readFileSync(file, "latin1");
    const cred = readCredentialFile(text);
    keys.add(cred.keyPem!);
    const v = verifyChain(pemCertificates(text), trust);
    assert.ok(v.ok, JSON.stringify(v));
    const id = pilotIdOf(file);
    ids.add(id);
    // The subject the roles come from; the servers name the pilot <subject>#pilot-<id>.
    assert.equal(v.identity, DN.pilot);
    const leaf = parseCertificate(pemCertificates(text)[0]!);
    assert.equal(leaf.x509.publicKey.asymmetricKeyType, "ec", "a P-256 key of its own");
    const lifeS = (leaf.notAfter.getTime() - Date.now()) / 1000;
    assert.ok(lifeS <= 3600 && lifeS > 3000, `lifetime_s bounds its life (${lifeS} s)`);
  }
  assert.equal(ids.size, 3, "each pilot its own id");
  assert.equal(keys.size, 3, "each pilot its own key");
});

test("a minted per-pilot proxy claims only what its binding admits", async () => {
  assert.equal(pilots.length, 3, "needs the proxies of the test above");
  await submit(env.client("bob"), [job()]);
  const aliceCluster = await submit(env.client("alice"), [job()]);
  const pilot = pilotWith(pilots[0]!);
  await assert.rejects(
    pilot.claimJob(slot({ GLIDEIN_Site: '"Anywhere"' })),
    (e) => codeOf(e) === "permission-denied" && /GLIDEIN_Site/.test((e as Error).message),
  );
  await assert.rejects(
    pilot.claimJob(slot({ GLIDEIN_Entry_Name: '"Entry_B"' })),
    (e) => codeOf(e) === "permission-denied" && /GLIDEIN_Entry_Name/.test((e as Error).message),
  );
  const offer = await pilot.claimJob(slot({ Name: `"slot1@glidein_${pilotIdOf(pilots[0]!)}"` }));
  assert.equal(offer.jobId, `${aliceCluster}.0`, "bob's older job is not admitted by start_expr");
  const none = await pilot.claimJob(slot({ Name: `"slot2@glidein_${pilotIdOf(pilots[0]!)}"` }));
  assert.equal(none.matched, false, "bob's job stays idle");

  // Another pilot's proxy, from the same batch, cannot touch this pilot's lease.
  const other = pilotWith(pilots[1]!);
  await assert.rejects(
    other.completeJob({ leaseId: offer.leaseId }),
    (e) =>
      codeOf(e) === "permission-denied" && /issued to another pilot/.test((e as Error).message),
  );
  await assert.rejects(other.releaseLease(offer.leaseId, "stolen"), (e) =>
    /another pilot/.test((e as Error).message),
  );
  await assert.rejects(other.heartbeat(offer.leaseId), (e) =>
    /another pilot/.test((e as Error).message),
  );
  await pilot.completeJob({ leaseId: offer.leaseId });
});

test("a minted per-pilot proxy is refused once its pilot id is revoked, its open connection too", async () => {
  assert.equal(pilots.length, 3, "needs the proxies of the first test");
  const id = pilotIdOf(pilots[2]!);
  const pilot = pilotWith(pilots[2]!);
  const name = `"slot1@glidein_${id}"`;
  assert.equal((await pilot.claimJob(slot({ Name: name }))).matched, false, "accepted first");
  appendFileSync(revokedFile, `${id}\n`);
  // The schedd reads the file again when it changes; wait for that, not a fixed time.
  const deadline = Date.now() + 60_000;
  let refused: unknown;
  while (Date.now() < deadline && refused === undefined) {
    try {
      await pilot.claimJob(slot({ Name: name }));
      await new Promise((r) => setTimeout(r, 200));
    } catch (err) {
      refused = err;
    }
  }
  assert.ok(refused !== undefined, "the revoked pilot is refused within 60 s");
  await assert.rejects(pilotWith(pilots[2]!).claimJob(slot({ Name: name })), (e) =>
    ["unauthenticated", "unavailable"].includes(codeOf(e) ?? ""),
  );
  // The other pilots of the batch are not revoked with it.
  const r = await pilotWith(pilots[1]!).claimJob(
    slot({ Name: `"slot1@glidein_${pilotIdOf(pilots[1]!)}"` }),
  );
  assert.equal(r.matched, false);
});

test("a batch of batch_max proxies fits a GlideClient ad; a request that cannot be signed is not sent", async () => {
  const { config, result } = frontendCycle(50, 20);
  assert.equal(result.pendingTokens[0]!.count, 20, "batch_max bounds the batch");
  await attachPilotProxies(
    result.pendingTokens,
    result.glideClientAds,
    config.security.pilot_proxies,
    createCredentialSealer(),
    log,
  );
  const bytes = Buffer.byteLength(JSON.stringify(result.glideClientAds[0]!.toJSON()));
  assert.ok(bytes < 60 * 1024, `the ad is ${bytes} bytes; the collector takes 64 KiB`);
  assert.throws(
    () => parseFrontendConfig(frontendYamlWithBatch(21), "fe.yaml"),
    /batch_max|less than or equal to 20/,
  );

  // An expired frontend proxy signs nothing: the request goes without pilots, not with a bad one.
  const expired = frontendCycle(2);
  const r = await attachPilotProxies(
    expired.result.pendingTokens,
    expired.result.glideClientAds,
    expired.config.security.pilot_proxies,
    createCredentialSealer(),
    log,
    () => new Date(Date.now() + 400 * 86_400_000),
  );
  assert.deepEqual(r, { minted: 0, failed: 1 });
  assert.equal(expired.result.glideClientAds.length, 0);
});

test("the factory refuses a proxy batch that is not certificate and key pairs and a chain", async () => {
  const good = await mintPilotProxyBatch(
    {
      binding: { frontend: "fe1", group: "main", entry: "Entry_A" },
      count: 2,
      proxyIssuer: readFileSync(frontendProxy),
    },
    { lifetime_s: 3600, batch_max: 10 },
  );
  const creds = join(dir, "refuse-creds");
  const seal = (text: string) => encryptCredential(text, factoryPublicPem);
  assert.equal(storePilotProxyBatch(creds, "c", seal(good), factoryPrivatePem).length, 2);
  const own = readFileSync(frontendProxy, "latin1");
  for (const [bad, why] of [
    [`${good}echo pwned\n`, /other than PEM blocks/],
    [own.slice(own.indexOf("-----BEGIN CERTIFICATE", 10)), /not proxy certificate and key pairs/],
    [good.slice(0, good.lastIndexOf("KEY-----") + 9), /not proxy certificate and key pairs/],
  ] as const) {
    assert.throws(() => storePilotProxyBatch(creds, "c", seal(bad), factoryPrivatePem), why);
  }
});

function frontendYamlWithBatch(n: number): string {
  return `
name: fe1
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ type: pilot_proxies, file: ${frontendProxy} }]
  pilot_proxies: { batch_max: ${n} }
factories: [{ name: f, identity: /CN=f }]
groups: [{ name: main }]
`;
}

/**
 * Per-pilot tokens from the frontend to the factory: the frontend signs one token per pilot the
 * factory may start, each with its own sub and pilot id and the binding to its group, entry,
 * factory and site; the batch travels sealed to the factory's key; the factory gives each pilot
 * its own token and never the same token to two pilots, also when the same request is read again.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import type { CollectorClient } from "../../src/collector/client.js";
import { tokenVerifierFromConfig } from "../../src/common/tokens-config.js";
import type { GridAdapter, PilotSpec } from "../../src/factory/adapters/types.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache } from "../../src/factory/credentials.js";
import { runCycle as runFactoryCycle } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { createCredentialSealer } from "../../src/frontend/credential-seal.js";
import { runCycle } from "../../src/frontend/cycle.js";
import {
  attachPilotTokens,
  createPilotTokenMinter,
  pilotTokenAudiences,
} from "../../src/frontend/pilot-tokens.js";
import { decryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";
import { isPilotBinding, parsePilotBinding } from "../../src/security/pilot-binding.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
import { createSlotWriterFilter } from "../../src/frontend/slot-writers.js";
import { entryAd, snapshot } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-tokens-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const ISS = "https://frontend.example.org/pilots";
const log = pino({ level: "silent" });

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

let worlds = 0;
async function frontendWorld(idleJobs: number) {
  const issuerDir = join(dir, `issuer-${worlds++}`);
  const init = await initIssuerDir(issuerDir, ISS);
  assert.ok(init.ok);
  const config = parseFrontendConfig(
    `
name: fe
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ type: pilot_tokens, security_class: main }]
  pilot_tokens: { dir: ${issuerDir}, lifetime_s: 600, batch_max: 4 }
factories: [{ name: f, identity: /CN=f }]
groups:
  - name: g
    start_expr: TARGET.RequestCpus == 1
    limits: { ramp_up_attenuation: 1 }
`,
    "fe.yaml",
  );
  const snap = snapshot({
    autoclusters: [{ id: "1", schedd: "s", count: idleJobs, job: { RequestCpus: "1" } }],
    factory_ads: [
      entryAd("e@f", {
        EntryName: "e",
        FactoryName: "f",
        GLIDEIN_Site: "SITE_E",
        PubKeyValue: publicPem,
      }),
    ],
  });
  const result = runCycle({
    config,
    snapshot: snap,
    credentials: new Map(),
    previousClientAds: [],
    now: 1_790_000_000,
  });
  return { config, result, issuerDir, jwksFile: init.dir.jwksFile };
}

test("the frontend mints one bound token per pilot, sealed to the factory's key", async () => {
  const { config, result, jwksFile } = await frontendWorld(3);
  assert.equal(result.glideClientAds.length, 1);
  assert.equal(result.pendingTokens.length, 1);
  assert.equal(result.pendingTokens[0]!.count, 3, "one token per requested idle pilot");
  const minter = await createPilotTokenMinter(
    config.security.pilot_tokens!,
    pilotTokenAudiences(config),
  );
  const r = await attachPilotTokens(
    result.pendingTokens,
    result.glideClientAds,
    minter,
    createCredentialSealer(),
    log,
  );
  assert.deepEqual(r, { minted: 3, failed: 0 });
  const ad = result.glideClientAds[0]!;
  assert.equal(ad.evaluate("GlideinCredentialType"), "pilot_tokens");
  const sealed = ad.evaluate("GlideinEncParamCredential");
  assert.equal(typeof sealed, "string");
  assert.ok(!(sealed as string).includes("eyJ"), "the tokens are not readable in the ad");
  const tokens = decryptCredential(sealed as string, privatePem)
    .toString()
    .trim()
    .split("\n");
  assert.equal(tokens.length, 3);

  // The schedd's view: its own URL as audience, the frontend's issuer trusted.
  const verifier = tokenVerifierFromConfig({
    issuers: [{ issuer: ISS, jwks_file: jwksFile }],
    audiences: ["wss://schedd.example.org:9619"],
    accept_any_audience: false,
    leeway_s: 60,
    max_token_bytes: 8192,
  });
  const subs = new Set<string>();
  const pilotIds = new Set<string>();
  for (const t of tokens) {
    const v = await verifier.verify(t);
    assert.ok(v.ok, JSON.stringify(v));
    assert.ok(v.claims.exp - Number(v.claims.payload.iat) === 600, "lifetime_s");
    const b = parsePilotBinding(v.claims.payload["updraft.pilot"]);
    assert.ok(isPilotBinding(b), JSON.stringify(b));
    assert.equal(b.frontend, "fe");
    assert.equal(b.group, "g");
    assert.equal(b.entry, "e");
    assert.equal(b.factory, "f");
    assert.equal(b.site, "SITE_E");
    assert.match(b.startExpr ?? "", /RequestCpus == 1/);
    assert.equal(v.claims.sub, `pilot-${b.pilotId}`);
    subs.add(v.claims.sub);
    pilotIds.add(b.pilotId!);
  }
  assert.equal(subs.size, 3, "each pilot its own identity");
  assert.equal(pilotIds.size, 3, "each pilot its own id");
});

test("a request for more pilots than batch_max gets batch_max tokens; none gets zero", async () => {
  const many = await frontendWorld(50);
  assert.equal(many.result.pendingTokens[0]!.count, 4);
});

test("the frontend advertises no request when its issuer cannot sign", async () => {
  const { config, result } = await frontendWorld(2);
  rmSync(config.security.pilot_tokens!.dir, { recursive: true });
  await assert.rejects(
    createPilotTokenMinter(config.security.pilot_tokens!, pilotTokenAudiences(config)),
  );
  const broken = {
    issuer: ISS,
    mint: async () => {
      throw new Error("key gone");
    },
    renew: async () => {
      throw new Error("key gone");
    },
  };
  const r = await attachPilotTokens(
    result.pendingTokens,
    result.glideClientAds,
    broken,
    createCredentialSealer(),
    log,
  );
  assert.deepEqual(r, { minted: 0, failed: 1 });
  assert.equal(result.glideClientAds.length, 0, "a request without its tokens is not sent");
});

test("the factory gives each pilot its own token and never one token to two pilots", async () => {
  const { config, result } = await frontendWorld(3);
  const minter = await createPilotTokenMinter(
    config.security.pilot_tokens!,
    pilotTokenAudiences(config),
  );
  await attachPilotTokens(
    result.pendingTokens,
    result.glideClientAds,
    minter,
    createCredentialSealer(),
    log,
  );
  const request = { ...result.glideClientAds[0]!.toJSON(), AuthenticatedIdentity: '"/CN=fe"' };

  const work = mkdtempSync(join(dir, "factory-"));
  const factoryConfig = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: {
      cert_file: "x",
      key_file: "x",
      rsa_private_key_file: "x",
      rsa_public_key_file: "x",
    },
    work_dir: work,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "e", gridtype: "fake", pilot: { command: "/bin/true" } }],
  });
  // The collector and the CE are not under test: stand-ins that return the request and accept
  // every pilot, recording what each was given.
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
        given.push(readFileSync(p.credentialFile!, "utf8").trim());
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    // Pilots leave the site queue at once, so the factory wants to submit again.
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
    adapters: new Map([["e", adapter]]),
    collector,
    logger: log,
    now: Date.now,
    keys: { privatePem, publicPem, id: pubKeyId(publicPem) },
    credentialDir: join(work, "creds"),
    credentialCache: new CredentialCache(),
  };
  await runFactoryCycle(deps);
  assert.equal(given.length, 3, "three pilots, three tokens");
  assert.equal(new Set(given).size, 3, "each pilot its own token");
  for (let i = 0; i < 3; i++) await runFactoryCycle(deps);
  assert.equal(given.length, 3, "the same batch read again starts no pilot with a used token");

  // After a restart (no cache), the store still knows which tokens were given.
  await runFactoryCycle({ ...deps, credentialCache: new CredentialCache() });
  assert.equal(given.length, 3);
  assert.equal(new Set(given).size, given.length);
});

test("Slot ads written by any pilot of the frontend's own issuer count; look-alike issuers do not", () => {
  const filter = createSlotWriterFilter(log);
  const ad = (writer: string) => ({
    Name: '"slot1@x"',
    AuthenticatedIdentity: JSON.stringify(writer),
  });
  const kept = filter.filter(
    [
      ad(`${ISS}#pilot-1`),
      ad(`${ISS}#pilot-2`),
      ad(`${ISS}x#pilot-3`),
      ad(`https://other.example.org#pilot-4`),
    ],
    new Set(),
    [ISS],
  );
  assert.deepEqual(
    kept.map((a) => a.AuthenticatedIdentity),
    [JSON.stringify(`${ISS}#pilot-1`), JSON.stringify(`${ISS}#pilot-2`)],
  );
});

test("Slot ads of per-pilot proxies signed from the frontend's own proxy count; look-alike subjects do not", () => {
  const filter = createSlotWriterFilter(log);
  const own = "/DC=org/DC=example/CN=pilot01";
  const ad = (writer: string) => ({
    Name: '"slot1@x"',
    AuthenticatedIdentity: JSON.stringify(writer),
  });
  const kept = filter.filter(
    [
      ad(own),
      ad(`${own}#pilot-7`),
      ad(`${own}2#pilot-8`),
      ad(`/DC=org/DC=example/CN=other#pilot-9`),
      ad(`${own}#pilot-`.slice(1)),
    ],
    new Set([own]),
  );
  assert.deepEqual(
    kept.map((a) => a.AuthenticatedIdentity),
    [JSON.stringify(own), JSON.stringify(`${own}#pilot-7`)],
  );
});

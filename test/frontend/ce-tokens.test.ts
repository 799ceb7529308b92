/**
 * CE tokens from the frontend to the factory: the frontend signs a token whose audience is the
 * entry's CE (the last word of its GLIDEIN_Gatekeeper), reuses it for half its life, and seals
 * it to the factory's key in `GlideinEncParamSubmitToken`; the factory checks its audience
 * against the entry, keeps it in a 0600 file, and hands that file to an adapter that submits
 * with frontend tokens. A factory entry whose CE the token does not name submits nothing and
 * says why.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import type { CollectorClient } from "../../src/collector/client.js";
import type { GridAdapter, PilotSpec } from "../../src/factory/adapters/types.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache } from "../../src/factory/credentials.js";
import { runCycle as runFactoryCycle } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import { attachCeTokens, createCeTokenMinter } from "../../src/frontend/ce-tokens.js";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { createCredentialSealer } from "../../src/frontend/credential-seal.js";
import { runCycle } from "../../src/frontend/cycle.js";
import { decryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
import { entryAd, snapshot } from "./helpers.js";
import { writeFileSync } from "node:fs";

const dir = mkdtempSync(join(tmpdir(), "updraft-ce-tokens-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const ISS = "https://frontend.example.org/ce";
const CE = "https://ce.example.org:443/arex";
const log = pino({ level: "silent" });
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const claims = (t: string) =>
  JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

async function frontendWorld() {
  const issuerDir = join(dir, "issuer");
  rmSync(issuerDir, { recursive: true, force: true });
  assert.ok((await initIssuerDir(issuerDir, ISS, "RS256")).ok);
  const proxy = join(dir, "proxy");
  writeFileSync(proxy, "PILOT-PROXY", { mode: 0o600 });
  const config = parseFrontendConfig(
    `
name: fe
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ file: ${proxy}, security_class: main }]
  ce_tokens: { dir: ${issuerDir}, lifetime_s: 3600 }
factories: [{ name: f, identity: /CN=f }]
groups:
  - name: g
    start_expr: TARGET.RequestCpus == 1
    limits: { ramp_up_attenuation: 1 }
`,
    "fe.yaml",
  );
  const result = runCycle({
    config,
    snapshot: snapshot({
      autoclusters: [{ id: "1", schedd: "s", count: 2, job: { RequestCpus: "1" } }],
      factory_ads: [
        entryAd("e@f", {
          EntryName: "e",
          FactoryName: "f",
          PubKeyValue: publicPem,
          GLIDEIN_Gatekeeper: `ce.example.org ${CE}`,
        }),
      ],
    }),
    credentials: new Map([[proxy, Buffer.from("PILOT-PROXY")]]),
    previousClientAds: [],
    now: Math.floor(Date.now() / 1000),
  });
  return { config, result };
}

test("each request gets a token for its entry's CE, sealed to the factory's key", async () => {
  const { config, result } = await frontendWorld();
  assert.equal(result.pendingCeTokens.length, 1);
  assert.equal(result.pendingCeTokens[0]!.audience, CE);
  const minter = await createCeTokenMinter(config.security.ce_tokens!, config.name);
  const r = await attachCeTokens(result.pendingCeTokens, minter, createCredentialSealer(), log);
  assert.deepEqual(r, { attached: 1, failed: 0 });
  const sealed = result.glideClientAds[0]!.evaluate("GlideinEncParamSubmitToken");
  assert.equal(typeof sealed, "string");
  assert.ok(!(sealed as string).includes("eyJ"), "the token is not readable in the ad");
  const token = decryptCredential(sealed as string, privatePem)
    .toString()
    .trim();
  const c = claims(token);
  assert.equal(c.aud, CE);
  assert.equal(c.iss, ISS);
  assert.equal(c.sub, "fe");
  assert.equal(c.scope, "compute.create compute.read compute.modify compute.cancel");
  assert.equal(Number(c.exp) - Number(c.iat), 3600);
});

test("a CE token is reused for half its life, then a fresh one of the same subject is made", async () => {
  const { config } = await frontendWorld();
  const minter = await createCeTokenMinter(config.security.ce_tokens!, config.name);
  const t0 = Date.now();
  const a = await minter.token(CE, t0);
  assert.equal(await minter.token(CE, t0 + 1_799_000), a);
  const b = await minter.token(CE, t0 + 1_801_000);
  assert.notEqual(b, a);
  assert.equal(claims(b).sub, claims(a).sub);
  assert.notEqual(await minter.token("https://other.example/arex", t0), a);
});

async function factoryRun(gatekeeper: string) {
  const { config, result } = await frontendWorld();
  const minter = await createCeTokenMinter(config.security.ce_tokens!, config.name);
  await attachCeTokens(result.pendingCeTokens, minter, createCredentialSealer(), log);
  const request = { ...result.glideClientAds[0]!.toJSON(), AuthenticatedIdentity: '"/CN=fe"' };
  const work = mkdtempSync(join(dir, "factory-"));
  const factoryConfig = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: { cert_file: "x", key_file: "x", rsa_private_key_file: "x", rsa_public_key_file: "x" },
    work_dir: work,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ name: "e", gridtype: "fake", gatekeeper, pilot: { command: "/bin/true" } }],
  });
  // The collector and the CE are not under test: stand-ins that return the request and accept
  // every pilot, recording the CE token file each was given.
  const collector = {
    advertise: async () => [],
    query: async (q: { type?: string }) => (q.type === "GlideClient" ? [request] : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const given: string[] = [];
  const adapter: GridAdapter = {
    gridtype: "fake",
    capabilities: { release: false, maxBatch: 10, output: false, submitToken: true },
    async submit(batch: readonly PilotSpec[]) {
      return batch.map((p) => {
        given.push(p.submitTokenFile ?? "");
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    status: async (hs) => new Map(hs.map((h) => [h, { handle: h, state: "Idle" as const }])),
    remove: async () => undefined,
    fetchOutput: async () => ({ stdout: "", stderr: "" }),
    recover: async () => [],
    close: async () => undefined,
  };
  const store = new FactoryStore(join(work, "f.db"));
  after(() => store.close());
  await runFactoryCycle({
    config: factoryConfig,
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: log,
    now: Date.now,
    keys: { privatePem, publicPem, id: pubKeyId(publicPem) },
    credentialDir: join(work, "creds"),
    credentialCache: new CredentialCache(),
  });
  return { given, store };
}

test("the factory hands the checked CE token, kept 0600, to an adapter that submits with it", async () => {
  const { given } = await factoryRun(`ce.example.org ${CE}`);
  assert.ok(given.length > 0, "pilots submitted");
  const file = given[0]!;
  assert.ok(
    given.every((f) => f === file),
    "one token file per client and entry",
  );
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(claims(readFileSync(file, "utf8").trim()).aud, CE);
});

test("a factory entry whose CE the token does not name submits nothing and says why", async () => {
  const { given, store } = await factoryRun("https://another-ce.example.org:443/arex");
  assert.equal(given.length, 0);
  const errors = store.lastErrors().map((e) => e.message);
  assert.ok(
    errors.some((m) => /submit token not used: audience/.test(m)),
    JSON.stringify(errors),
  );
  assert.ok(!errors.join("").includes("eyJ"), "no token in the recorded error");
});

/**
 * A real factory cycle for one frontend request, without a collector: a local entry `e` whose
 * pilot is the caller's script, a fresh RSA key pair for credentials, and a stand-in collector
 * (named as such: the collector is not under test) that answers with the one GlideClient ad.
 */
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { after } from "node:test";
import { pino } from "pino";
import { ClassAd } from "../../src/classad/index.js";
import type { CollectorClient } from "../../src/collector/client.js";
import { createLocalAdapter } from "../../src/factory/adapters/local/local-adapter.js";
import { type FactoryConfigInput, factoryConfigSchema } from "../../src/factory/config.js";
import { CredentialCache } from "../../src/factory/credentials.js";
import type { CycleDeps } from "../../src/factory/cycle.js";
import { FactoryStore } from "../../src/factory/store.js";
import { encryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";

type Entry = FactoryConfigInput["entries"][number];

/**
 * The cycle's dependencies for entry `e` of factory `f` (work, state and credentials under
 * `dir`) with `slots` local slots, serving frontend `fe`'s group `g` the request the caller
 * builds from `seal` (which encrypts a credential to the factory's key). The pilots it starts
 * are removed after the test file.
 */
export function oneRequestFactory(
  dir: string,
  request: (seal: (secret: string) => string) => Record<string, string | number>,
  slots: number,
  entry: Omit<Entry, "name" | "gridtype">,
): { deps: CycleDeps; store: FactoryStore } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const config = factoryConfigSchema.parse({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: { cert_file: "x", key_file: "x", rsa_private_key_file: "x", rsa_public_key_file: "x" },
    work_dir: dir,
    security: { frontends: [{ name: "fe", security_classes: { main: { identity: "/CN=fe" } } }] },
    entries: [{ ...entry, name: "e", gridtype: "local" }],
  });
  const ad = new ClassAd()
    .setValue("ReqGlidein", "e@f")
    .setValue("ClientName", "fe.g")
    .setValue("FrontendName", "fe")
    .setValue("GlideinSecurityClass", "main")
    .setValue("AuthenticatedIdentity", "/CN=fe");
  for (const [k, v] of Object.entries(request((s) => encryptCredential(s, publicPem)))) {
    ad.setValue(k, v);
  }
  const glideClient = ad.toJSON();
  const collector = {
    advertise: async () => [],
    query: async (q: { type?: string }) => (q.type === "GlideClient" ? [glideClient] : []),
    invalidate: async () => ({}),
  } as unknown as CollectorClient;
  const adapter = createLocalAdapter(
    { slots, kill_grace_s: 0 },
    { stateDir: join(dir, "local"), logger: pino({ level: "silent" }), now: Date.now },
  );
  const store = new FactoryStore(join(dir, "f.db"));
  after(async () => {
    await adapter.remove(
      store
        .live()
        .map((p) => p.handle!)
        .filter(Boolean),
    );
    await adapter.close();
    store.close();
  });
  const deps: CycleDeps = {
    config,
    store,
    adapters: new Map([["e", adapter]]),
    collector,
    logger: pino({ level: "silent" }),
    now: Date.now,
    keys: { privatePem, publicPem, id: pubKeyId(publicPem) },
    credentialDir: join(dir, "creds"),
    credentialCache: new CredentialCache(),
  };
  return { deps, store };
}

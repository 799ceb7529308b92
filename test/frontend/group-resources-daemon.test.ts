/**
 * Per-group credentials, pilot lifetimes and schedds through the frontend daemon, against a real
 * collector and two real schedds: each group counts only its own schedds' jobs, and its requests
 * at the collector name its schedds and lifetimes and carry its credentials, taken in turn by a
 * round_robin group (one per request, another at the next entry), as glideinWMS's round-robin
 * selection does.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { createLogger } from "../../src/common/logger.js";
import { type FrontendConfigInput, parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { decryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";
import {
  createPool,
  DN as CDN,
  startCollector,
  type Pool,
  type Running,
} from "../collector/harness.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";

const log = createLogger({ name: "group-resources-test", level: "silent" });

function entryKeys() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { pem, privateKey, id: pubKeyId(publicKey) };
}

function entryAd(name: string, key: { pem: string; id: string }) {
  return {
    MyType: '"GlideFactory"',
    Name: JSON.stringify(`${name}@gfactory@test`),
    FactoryName: '"gfactory"',
    GLIDEIN_Site: '"SiteA"',
    GLIDEIN_CPUS: "1",
    GLIDEIN_MaxMemMBs: "4000",
    GLIDEIN_TrustDomain: '"grid"',
    PubKeyID: JSON.stringify(key.id),
    PubKeyValue: JSON.stringify(key.pem),
  };
}

let pool: Pool;
let collector: Running;
let s1: TestEnv;
let s2: TestEnv;
let dir: string;
const keys = { ce_a: entryKeys(), ce_b: entryKeys() };

before(async () => {
  pool = createPool();
  collector = await startCollector(pool, pool.config());
  [s1, s2] = await Promise.all([startEnv(), startEnv()]);
  dir = mkdtempSync(join(tmpdir(), "updraft-group-resources-"));
  writeFileSync(join(dir, "one"), "credential-one");
  writeFileSync(join(dir, "two"), "credential-two");
  await collector
    .as("factory")
    .advertise([entryAd("ce_a", keys.ce_a), entryAd("ce_b", keys.ce_b)], "GlideFactory");
  const want = () => job({ DESIRED_Sites: '"SiteA"' });
  await submit(s1.client("bob"), [want(), want()]);
  await submit(s2.client("bob"), [want(), want(), want(), want(), want()]);
});

after(async () => {
  await collector.stop();
  await Promise.all([s1.close(), s2.close()]);
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test("each group counts its own schedds' jobs and sends its own schedds, lifetimes and credentials", async () => {
  const cred = (name: string) => ({
    name,
    file: join(dir, name),
    type: "token" as const,
    trust_domain: "grid",
  });
  const config = parseFrontendConfig(
    JSON.stringify({
      name: "vo",
      collector: { url: collector.url },
      schedds: [s1.schedd.url(), s2.schedd.url()],
      security: {
        identity: CDN.frontend,
        credentials: [cred("one"), cred("two")],
        pilot_identities: [CDN.pilot],
      },
      factories: [{ name: "gfactory", identity: CDN.factory }],
      pilot: { max_walltime_s: 7200, max_idle_s: 600 },
      groups: [
        {
          name: "first",
          match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
          limits: { ramp_up_attenuation: 1 },
          schedds: [s1.schedd.url()],
          pilot: { max_walltime_s: 1800 },
          security: { credentials: ["one", "two"], selection: "round_robin" },
        },
        {
          name: "second",
          match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
          limits: { ramp_up_attenuation: 1 },
          schedds: [s2.schedd.url()],
          security: { credentials: ["two"] },
        },
      ],
    } satisfies FrontendConfigInput),
  );
  // The daemon's connections, as start() would make them (the test CA's clients).
  const peers = {
    collector: collector.as("frontend"),
    schedds: [s1, s2].map((s) => ({ url: s.schedd.url(), client: s.client("frontend") })),
    timeoutMs: 5000,
  };
  const daemon = createFrontendDaemon(config, { peers, logger: log });
  try {
    const report = await daemon.cycle();
    assert.deepEqual(report.unreachable, []);
  } finally {
    await daemon.stop();
  }
  const reader = collector.as("frontend");
  const byGroup = async (type: "GlideClient" | "GlideResource", attr: string) => {
    const out = new Map<string, ClassAd[]>();
    for (const a of await reader.query({ type })) {
      const ad = ClassAd.fromJSON(a);
      const client = String(ad.evaluate(attr));
      out.set(client, [...(out.get(client) ?? []), ad]);
    }
    return out;
  };

  // What each group counted: the jobs of its own schedds only.
  const resources = await byGroup("GlideResource", "GlideClientName");
  for (const [client, idle] of [
    ["vo.first", 2],
    ["vo.second", 5],
  ] as const) {
    const ads = resources.get(client) ?? [];
    assert.equal(ads.length, 2, `${client}: one GlideResource ad per entry`);
    for (const ad of ads) assert.equal(ad.evaluate("GlideClientMonitorJobsIdle"), idle, client);
  }

  const requests = await byGroup("GlideClient", "ClientName");
  const opened = (ad: ClassAd) => {
    const entry = String(ad.evaluate("ReqGlidein")).split("@")[0] as keyof typeof keys;
    const enc = ad.evaluate("GlideinEncParamCredential");
    assert.equal(typeof enc, "string", "one credential per request");
    return decryptCredential(enc as string, keys[entry].privateKey).toString();
  };
  const first = requests.get("vo.first") ?? [];
  assert.equal(first.length, 2, "a request at each entry");
  for (const ad of first) {
    assert.equal(ad.evaluate("GlideinParamGLIDEIN_Schedds"), s1.schedd.url());
    assert.equal(ad.evaluate("GlideinParamGLIDEIN_Max_Walltime"), 1800, "the group's lifetime");
    assert.equal(ad.evaluate("GlideinParamGLIDEIN_Max_Idle"), 600, "the frontend's");
  }
  // Round robin: one credential per request, the other one at the other entry.
  assert.deepEqual(first.map(opened).sort(), ["credential-one", "credential-two"]);

  const second = requests.get("vo.second") ?? [];
  assert.equal(second.length, 2);
  for (const ad of second) {
    assert.equal(ad.evaluate("GlideinParamGLIDEIN_Schedds"), s2.schedd.url());
    assert.equal(ad.evaluate("GlideinParamGLIDEIN_Max_Walltime"), 7200, "the frontend's");
    assert.equal(opened(ad), "credential-two");
  }
});

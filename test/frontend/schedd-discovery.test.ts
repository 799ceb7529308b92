/**
 * Schedds found through their Scheduler ads: only ads the collector stamped with a trusted
 * identity and whose address is a sane wss:// URL count. Against a real collector and a real
 * schedd, a forged Scheduler ad from another daemon-role identity neither reaches the snapshot
 * nor the pilots' schedd list.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { createLogger } from "../../src/common/logger.js";
import { type FrontendConfigInput, parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { gatherSnapshot } from "../../src/frontend/gather.js";
import {
  createScheddDirectory,
  MAX_FOUND_SCHEDDS,
  MAX_REFUSALS_KEPT,
  trustedSchedds,
} from "../../src/frontend/schedd-discovery.js";
import { pubKeyId } from "../../src/security/credential-crypto.js";
import { generateKeyPairSync } from "node:crypto";
import {
  createPool,
  DN as CDN,
  startCollector,
  type Pool,
  type Running,
} from "../collector/harness.js";
import { job, rpcFor, startEnv, submit, testPki, type TestEnv } from "../schedd/harness.js";

const TRUSTED = "/DC=org/DC=example/OU=Services/CN=schedd.example.org";

const schedulerAd = (name: string, address: string, identity?: string) => ({
  MyType: '"Scheduler"',
  Name: JSON.stringify(name),
  MyAddress: JSON.stringify(address),
  ...(identity !== undefined ? { AuthenticatedIdentity: JSON.stringify(identity) } : {}),
});

test("only trusted writers with a wss:// address count, each address once, sorted", () => {
  const found = trustedSchedds(
    [
      schedulerAd("b", "wss://b.example.org:9619/", TRUSTED),
      schedulerAd("a", "wss://a.example.org:9619/", TRUSTED),
      schedulerAd("a-again", "wss://a.example.org:9619/", TRUSTED),
      schedulerAd("forged", "wss://evil.example.org:9619/", "/CN=mallory"),
      schedulerAd("anonymous", "wss://evil.example.org:9619/"),
      schedulerAd("plain", "ws://c.example.org:9619/", TRUSTED),
      schedulerAd("file", "file:///etc/passwd", TRUSTED),
      schedulerAd("spaces", "wss://c.example.org:9619/ x", TRUSTED),
      schedulerAd("long", `wss://c.example.org/${"x".repeat(2000)}`, TRUSTED),
      { MyType: '"Scheduler"', Name: '"broken"', MyAddress: "((" },
    ],
    [TRUSTED],
  );
  assert.deepEqual(found.urls, ["wss://a.example.org:9619/", "wss://b.example.org:9619/"]);
  assert.deepEqual(
    found.refused.map((r) => [r.name ?? "?", r.reason]),
    [
      ["forged", "untrusted_writer"],
      ["anonymous", "untrusted_writer"],
      ["plain", "bad_address"],
      ["file", "bad_address"],
      ["spaces", "bad_address"],
      ["long", "bad_address"],
      ["?", "unreadable"],
    ],
  );
});

test("trusted identities may be patterns: * stops at a slash, ** spans", () => {
  const ads = [
    schedulerAd("direct", "wss://a.example.org:9619/", "/DC=org/DC=example/CN=sched-a"),
    schedulerAd("deeper", "wss://b.example.org:9619/", "/DC=org/DC=example/OU=X/CN=sched-b"),
    schedulerAd("other", "wss://c.example.org:9619/", "/DC=org/DC=other/CN=sched-c"),
  ];
  const one = trustedSchedds(ads, ["/DC=org/DC=example/*"]);
  assert.deepEqual(one.urls, ["wss://a.example.org:9619/"]);
  assert.deepEqual(
    one.refused.map((r) => r.name),
    ["deeper", "other"],
  );
  const any = trustedSchedds(ads, ["/DC=org/DC=example/**"]);
  assert.deepEqual(any.urls, ["wss://a.example.org:9619/", "wss://b.example.org:9619/"]);
  // Characters a regular expression would read are plain here.
  const dot = trustedSchedds(
    [schedulerAd("dot", "wss://d.example.org:9619/", "/DC=org/DC=exampleXorg/CN=s")],
    ["/DC=org/DC=example.org/*"],
  );
  assert.deepEqual(dot.urls, []);
});

test("a flood of trusted Scheduler ads is cut at the limit", () => {
  const ads = Array.from({ length: MAX_FOUND_SCHEDDS + 10 }, (_, i) =>
    schedulerAd(`s${i}`, `wss://s${i}.example.org:9619/`, TRUSTED),
  );
  const found = trustedSchedds(ads, [TRUSTED]);
  assert.equal(found.urls.length, MAX_FOUND_SCHEDDS);
  assert.equal(found.refused.filter((r) => r.reason === "over_limit").length, 10);
});

test("a flood of untrusted Scheduler ads keeps a bounded list of refusals, the rest counted", () => {
  const ads = Array.from({ length: 5000 }, (_, i) =>
    schedulerAd(`s${i}-${"n".repeat(5000)}`, "wss://evil.example.org:9619/", "/CN=mallory"),
  );
  const found = trustedSchedds(ads, [TRUSTED]);
  assert.deepEqual(found.urls, []);
  assert.equal(found.refused.length, MAX_REFUSALS_KEPT);
  assert.equal(found.refusedMore, 5000 - MAX_REFUSALS_KEPT);
  assert.ok(found.refused.every((r) => r.name!.length <= 200 && r.reason === "untrusted_writer"));
});

const log = createLogger({ name: "discovery-test", level: "silent" });
let pool: Pool;
let collector: Running;
let schedd: TestEnv;
let dir: string;

before(async () => {
  pool = createPool();
  // The reader has the daemon role too: a second writer of Scheduler ads, not trusted.
  const rules = [
    ...pool.config().authorization.rules,
    { identity: CDN.reader, roles: ["daemon", "read"] },
  ];
  collector = await startCollector(pool, pool.config({ authorization: { rules } }));
  schedd = await startEnv();
  dir = mkdtempSync(join(tmpdir(), "updraft-discovery-"));
  writeFileSync(join(dir, "token"), "pilot-credential");
  await submit(schedd.client("bob"), [job({ DESIRED_Sites: '"SiteA"' })]);
  // The schedd's ad, written here by the admin's certificate standing in for the schedd's host.
  await collector
    .as("admin")
    .advertise([schedulerAd("schedd@a", schedd.schedd.url())], "Scheduler");
  await collector
    .as("reader")
    .advertise([schedulerAd("schedd@evil", "wss://localhost:1/")], "Scheduler");
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await collector.as("factory").advertise(
    [
      {
        MyType: '"GlideFactory"',
        Name: '"ce_a@gfactory@test"',
        FactoryName: '"gfactory"',
        GLIDEIN_Site: '"SiteA"',
        GLIDEIN_TrustDomain: '"grid"',
        PubKeyID: JSON.stringify(pubKeyId(publicKey)),
        PubKeyValue: JSON.stringify(publicKey.export({ type: "spki", format: "pem" }).toString()),
      },
    ],
    "GlideFactory",
  );
});

after(async () => {
  await collector.stop();
  await schedd.close();
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test("schedds: all finds the trusted schedd, serves its jobs and tells pilots only its URL", async () => {
  const config = parseFrontendConfig(
    JSON.stringify({
      name: "vo",
      collector: { url: collector.url },
      schedds: "all",
      security: {
        identity: CDN.frontend,
        credentials: [{ file: join(dir, "token"), type: "token" }],
        // A pattern admitting the admin's subject and not the reader's, a sibling under it.
        schedd_identities: ["/DC=org/DC=example/CN=Op*"],
      },
      factories: [{ name: "gfactory", identity: CDN.factory }],
      groups: [
        {
          name: "main",
          match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
          limits: { ramp_up_attenuation: 1 },
        },
      ],
    } satisfies FrontendConfigInput),
  );
  const { pki, creds } = testPki();
  const directory = createScheddDirectory({
    collector: collector.as("frontend"),
    constraint: "true",
    trusted: config.security.schedd_identities,
    connect: (url) => rpcFor(pki, creds, "frontend", url),
    timeoutMs: 5000,
    log,
  });
  const peers = {
    collector: collector.as("frontend"),
    schedds: [],
    findSchedds: () => directory.find(),
    timeoutMs: 5000,
  };
  const held = await collector.as("frontend").query({ type: "Scheduler" });
  assert.equal(held.length, 2, "the forged Scheduler ad is in the collector");
  try {
    const { snapshot, unreachable } = await gatherSnapshot(config, peers, log, 0);
    assert.deepEqual(unreachable, []);
    assert.deepEqual(snapshot.schedds, [schedd.schedd.url()]);
    assert.equal(
      snapshot.autoclusters.reduce((n, a) => n + a.count, 0),
      1,
    );

    const daemon = createFrontendDaemon(config, { peers, logger: log });
    await daemon.cycle();
    await daemon.stop();
    const ads = await collector.as("frontend").query({ type: "GlideClient" });
    assert.equal(ads.length, 1);
    const ad = ClassAd.fromJSON(ads[0]!);
    assert.equal(ad.evaluate("GlideinParamGLIDEIN_Schedds"), schedd.schedd.url());
  } finally {
    await directory.close();
  }
});

test("schedds found through the collector need the identities to trust", () => {
  assert.throws(
    () =>
      parseFrontendConfig(`name: fe
collector: { url: wss://c:9618 }
schedds: { constraint: 'Name == "x"' }
security: { identity: /CN=fe, credentials: [{ file: /p }] }
factories: [{ name: f, identity: /CN=f }]
groups: [{ name: main }]
`),
    (err: Error & { problems?: { path: string }[] }) =>
      err.problems?.some((p) => p.path === "security.schedd_identities") === true,
  );
});

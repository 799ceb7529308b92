/**
 * The frontend daemon against a real collector and a real schedd: a factory advertises two
 * entries with real RSA keys, jobs want only one site, one cycle runs, and the collector then
 * holds a request for that entry only, written by the frontend, with a credential only that
 * entry's private key opens.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { ConfigError } from "../../src/common/config.js";
import { createLogger } from "../../src/common/logger.js";
import { type FrontendConfigInput, parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { gatherSnapshot, type Peers } from "../../src/frontend/gather.js";
import { ownPilotIdentities } from "../../src/frontend/slot-writers.js";
import { scheddClient } from "../../src/schedd/client.js";
import { decryptCredential, pubKeyId } from "../../src/security/credential-crypto.js";
import { initIssuerDir, loadIssuer, signToken } from "../../src/security/token-issuer.js";
import {
  createPool,
  DN as CDN,
  startCollector,
  type Pool,
  type Running,
} from "../collector/harness.js";
import { job, rpcFor, startEnv, submit, testPki, type TestEnv } from "../schedd/harness.js";

const log = createLogger({ name: "frontend-test", level: "silent" });
const CREDENTIAL = "pilot-token-contents";

function entryKeys() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { pem, privateKey, id: pubKeyId(publicKey) };
}

function entryAd(name: string, site: string, key: { pem: string; id: string }) {
  return {
    MyType: '"GlideFactory"',
    Name: JSON.stringify(`${name}@gfactory@test`),
    FactoryName: '"gfactory"',
    GLIDEIN_Site: JSON.stringify(site),
    GLIDEIN_CPUS: "1",
    GLIDEIN_MaxMemMBs: "4000",
    GLIDEIN_TrustDomain: '"grid"',
    PubKeyID: JSON.stringify(key.id),
    PubKeyValue: JSON.stringify(key.pem),
  };
}

describe("frontend daemon against real daemons", () => {
  let pool: Pool;
  let collector: Running;
  let schedd: TestEnv;
  let dir: string;
  const keyA = entryKeys();
  const keyB = entryKeys();

  before(async () => {
    pool = createPool();
    // The reader also holds the factory role here: a second writer of GlideFactory ads, whose ads
    // must not get the credential.
    const rules = [
      ...pool.config().authorization.rules,
      { identity: CDN.reader, roles: ["factory", "read"] },
    ];
    collector = await startCollector(pool, pool.config({ authorization: { rules } }));
    schedd = await startEnv();
    dir = mkdtempSync(join(tmpdir(), "updraft-frontend-"));
    writeFileSync(join(dir, "token"), CREDENTIAL);
    await collector
      .as("factory")
      .advertise([entryAd("ce_a", "SiteA", keyA), entryAd("ce_b", "SiteB", keyB)], "GlideFactory");
    await submit(schedd.client("bob"), [
      job({ DESIRED_Sites: '"SiteA"' }),
      job({ DESIRED_Sites: '"SiteA"' }),
      job({ DESIRED_Sites: '"SiteA"' }),
    ]);
  });

  after(async () => {
    await collector.stop();
    await schedd.close();
    pool.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(schedds: string[]) {
    return parseFrontendConfig(
      JSON.stringify({
        name: "vo",
        collector: { url: collector.url },
        schedds,
        security: {
          identity: CDN.frontend,
          credentials: [{ file: join(dir, "token"), type: "token", trust_domain: "grid" }],
          // The token here is not a JWT: its pilots' identity is listed.
          pilot_identities: [CDN.pilot],
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
  }

  function peers(extra: Peers["schedds"] = []): Peers {
    return {
      collector: collector.as("frontend"),
      schedds: [{ url: schedd.schedd.url(), client: schedd.client("frontend") }, ...extra],
      timeoutMs: 1000,
    };
  }

  async function clientAds() {
    return collector.as("frontend").query({ type: "GlideClient" });
  }

  it("requests pilots only at the entry the jobs want, encrypted to that entry's key", async () => {
    const daemon = createFrontendDaemon(config([schedd.schedd.url()]), {
      peers: peers(),
      logger: log,
    });
    const report = await daemon.cycle();
    assert.deepEqual(report.unreachable, []);
    const ads = (await clientAds()).map((a) => ClassAd.fromJSON(a));
    const forA = ads.find((a) => a.evaluate("ReqGlidein") === "ce_a@gfactory@test");
    const forB = ads.find((a) => a.evaluate("ReqGlidein") === "ce_b@gfactory@test");
    assert.ok(forA, "a GlideClient ad for the matching entry");
    assert.ok(Number(forA.evaluate("ReqIdleGlideins")) > 0);
    assert.equal(forA.evaluate("AuthenticatedIdentity"), CDN.frontend);
    const enc = forA.evaluate("GlideinEncParamCredential");
    assert.equal(typeof enc, "string");
    assert.equal(decryptCredential(enc as string, keyA.privateKey).toString(), CREDENTIAL);
    assert.throws(() => decryptCredential(enc as string, keyB.privateKey));
    assert.ok(!forB || Number(forB.evaluate("ReqIdleGlideins")) === 0);
    await daemon.stop();
  });

  it("ignores a GlideFactory ad another factory-role identity wrote under the pinned name", async () => {
    const forged = entryKeys();
    await collector.as("reader").advertise([entryAd("ce_evil", "SiteA", forged)], "GlideFactory");
    const all = await collector.as("frontend").query({ type: "GlideFactory" });
    assert.ok(
      all.some((a) => a.Name === '"ce_evil@gfactory@test"'),
      "the forged ad is in the collector",
    );
    const daemon = createFrontendDaemon(config([schedd.schedd.url()]), {
      peers: peers(),
      logger: log,
    });
    await daemon.cycle();
    const ads = (await clientAds()).map((a) => ClassAd.fromJSON(a));
    assert.ok(!ads.some((a) => a.evaluate("ReqGlidein") === "ce_evil@gfactory@test"));
    for (const a of ads) {
      const enc = a.evaluate("GlideinEncParamCredential");
      if (typeof enc === "string") assert.throws(() => decryptCredential(enc, forged.privateKey));
    }
    assert.ok(ads.some((a) => a.evaluate("ReqGlidein") === "ce_a@gfactory@test"));
    await daemon.stop();
  });

  it("the snapshot holds this frontend's pilots from their Slot ads, not other clients'", async () => {
    const pilotAd = (n: number, client: string) => ({
      MyType: '"Slot"',
      Name: `"slot1@glidein_${n}"`,
      GLIDECLIENT_Name: JSON.stringify(client),
      GLIDEIN_Entry_Name: '"ce_a"',
      GLIDEIN_Name: '"gfactory"',
      GLIDEIN_Factory: '"test"',
      State: '"Unclaimed"',
      Cpus: "1",
      Memory: "2000",
    });
    await collector
      .as("pilot")
      .advertise([pilotAd(1, "vo.main"), pilotAd(2, "other.main")], "Slot");
    const { snapshot } = await gatherSnapshot(config([schedd.schedd.url()]), peers(), log, 0);
    assert.deepEqual(snapshot.slots, [
      {
        group: "main",
        entry: "ce_a@gfactory@test",
        state: "idle",
        cpus: 1,
        memory: 2000,
        retiring: false,
      },
    ]);
  });

  it("20 Slot ads forged by another pilot-role identity are not counted and do not stop provisioning", async () => {
    const forged = Array.from({ length: 20 }, (_, i) => ({
      MyType: '"Slot"',
      Name: `"slot1@forged_${i}"`,
      GLIDECLIENT_Name: '"vo.main"',
      GLIDEIN_Entry_Name: '"ce_a"',
      GLIDEIN_Name: '"gfactory"',
      GLIDEIN_Factory: '"test"',
      State: '"Unclaimed"',
      Cpus: "8",
      Memory: "32000",
    }));
    // pilot2 holds the collector's pilot role but is no identity of this frontend's pilots.
    const results = await collector.as("pilot2").advertise(forged, "Slot");
    assert.ok(
      results.every((r) => r.ok),
      "the collector stored the forged ads",
    );
    const cfg = config([schedd.schedd.url()]);
    const { snapshot } = await gatherSnapshot(cfg, peers(), log, 0);
    assert.equal(snapshot.slots.length, 1, "only the slot the frontend's own pilot wrote");
    const daemon = createFrontendDaemon(cfg, { peers: peers(), logger: log });
    await daemon.cycle();
    const ads = (await clientAds()).map((a) => ClassAd.fromJSON(a));
    const forA = ads.find((a) => a.evaluate("ReqGlidein") === "ce_a@gfactory@test");
    assert.ok(forA && Number(forA.evaluate("ReqIdleGlideins")) > 0, "pilots still requested");
    await daemon.stop();
    // Counted, the same 20 ads stand for 160 idle cores and the request drops to zero.
    const trusting = parseFrontendConfig(
      JSON.stringify({
        ...JSON.parse(JSON.stringify(cfg)),
        security: { ...cfg.security, pilot_identities: [CDN.pilot, CDN.pilot2] },
      }),
    );
    const counted = await gatherSnapshot(trusting, peers(), log, 0);
    assert.equal(counted.snapshot.slots.length, 21);
    const fooled = createFrontendDaemon(trusting, { peers: peers(), logger: log });
    await fooled.cycle();
    const after = (await clientAds()).map((a) => ClassAd.fromJSON(a));
    const fooledA = after.find((a) => a.evaluate("ReqGlidein") === "ce_a@gfactory@test");
    assert.ok(!fooledA || Number(fooledA.evaluate("ReqIdleGlideins")) === 0);
    await fooled.stop();
  });

  it("a pilot credential's own identity counts without being listed", () => {
    const file = join(dir, "pilot.pem");
    writeFileSync(file, pool.creds.pilot.certPem + pool.creds.pilot.keyPem, { mode: 0o600 });
    const cfg = config([schedd.schedd.url()]);
    const proxyCfg = {
      ...cfg,
      security: {
        ...cfg.security,
        credentials: [{ ...cfg.security.credentials[0], file, type: "grid_proxy" as const }],
        pilot_identities: [],
      },
    };
    assert.deepEqual([...ownPilotIdentities(proxyCfg)], [CDN.pilot]);
  });

  it("without peers handed in, start() connects them: no cycle before, no start without tls", async () => {
    const daemon = createFrontendDaemon(config([schedd.schedd.url()]), { logger: log });
    await assert.rejects(daemon.cycle(), /not started: start\(\) connects to its peers/);
    await assert.rejects(
      daemon.start(),
      (e: unknown) => e instanceof ConfigError && /tls: required to reach/.test(e.message),
    );
    await daemon.stop();
  });

  it("a schedd that refuses connections costs a timeout, not the cycle", async () => {
    const { pki, creds } = testPki();
    const dead = "wss://localhost:1";
    const deadRpc = rpcFor(pki, creds, "frontend", dead);
    try {
      const cfg = config([schedd.schedd.url(), dead]);
      const started = Date.now();
      const gathered = await gatherSnapshot(
        cfg,
        peers([{ url: dead, client: scheddClient(deadRpc) }]),
        log,
        0,
      );
      assert.ok(Date.now() - started < 5000);
      assert.deepEqual(gathered.unreachable, [dead]);
      assert.ok(gathered.snapshot.autoclusters.length > 0);
      const daemon = createFrontendDaemon(cfg, {
        peers: peers([{ url: dead, client: scheddClient(deadRpc) }]),
        logger: log,
      });
      const report = await daemon.cycle();
      assert.deepEqual(report.unreachable, [dead]);
      assert.ok(report.advertised > 0);
      const names = (await clientAds()).map((a) => ClassAd.fromJSON(a).evaluate("ReqGlidein"));
      assert.ok(names.includes("ce_a@gfactory@test"));
    } finally {
      await deadRpc.close();
    }
  });

  it("with ce_tokens each request carries a token for its entry's CE, the same text while reused", async () => {
    const issuerDir = join(dir, "ce-issuer");
    assert.ok((await initIssuerDir(issuerDir, "https://vo.example.org/ce", "RS256")).ok);
    const ce = "https://ce-a.example.org:443/arex";
    await collector
      .as("factory")
      .advertise(
        [{ ...entryAd("ce_a", "SiteA", keyA), GLIDEIN_Gatekeeper: JSON.stringify(`ce-a ${ce}`) }],
        "GlideFactory",
      );
    const base = config([schedd.schedd.url()]);
    const cfg = {
      ...base,
      security: {
        ...base.security,
        ce_tokens: { dir: issuerDir, lifetime_s: 3600, scope: "compute.create" },
      },
    };
    const daemon = createFrontendDaemon(cfg, { peers: peers(), logger: log });
    const sealed = async () => {
      await daemon.cycle();
      const ads = (await clientAds()).map((a) => ClassAd.fromJSON(a));
      const forA = ads.find((a) => a.evaluate("ReqGlidein") === "ce_a@gfactory@test");
      return forA?.evaluate("GlideinEncParamSubmitToken");
    };
    const first = await sealed();
    assert.equal(typeof first, "string");
    const token = decryptCredential(first as string, keyA.privateKey).toString();
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as {
      aud: string;
      sub: string;
      iss: string;
      scope: string;
    };
    assert.deepEqual(
      { aud: claims.aud, sub: claims.sub, iss: claims.iss, scope: claims.scope },
      { aud: ce, sub: "vo", iss: "https://vo.example.org/ce", scope: "compute.create" },
    );
    assert.equal(await sealed(), first, "the factory's decryption cache stays warm");
    await daemon.stop();
  });

  it("with ce_tokens files each request carries the VO's ready-made token for its CE, re-read as it is refreshed on disk", async () => {
    // The VO's token service (htgettoken, oidc-agent): an issuer the frontend holds no key of.
    const vo = join(dir, "vo-iam");
    assert.ok((await initIssuerDir(vo, "https://iam.vo.example.org/", "RS256")).ok);
    const iam = await loadIssuer(vo);
    const ce = "https://ce-files.example.org:443/arex";
    const issue = (over: { aud?: string; scope?: string; lifetimeS?: number } = {}) =>
      signToken(iam, {
        sub: "vo-production",
        audiences: [over.aud ?? ce],
        scope: over.scope ?? "compute.create compute.read compute.cancel",
        lifetimeS: over.lifetimeS ?? 3600,
      });
    await collector
      .as("factory")
      .advertise(
        [{ ...entryAd("ce_a", "SiteA", keyA), GLIDEIN_Gatekeeper: JSON.stringify(`ce ${ce}`) }],
        "GlideFactory",
      );
    const forCe = join(dir, "bt-ce");
    const forOther = join(dir, "bt-other");
    writeFileSync(forCe, `${await issue()}\n`, { mode: 0o600 });
    writeFileSync(
      forOther,
      await issue({ aud: "https://other-ce.example.org/arex", lifetimeS: 7200 }),
      {
        mode: 0o600,
      },
    );
    const base = config([schedd.schedd.url()]);
    const cfg = {
      ...base,
      security: {
        ...base.security,
        ce_tokens: {
          files: [join(dir, "bt-missing"), forOther, forCe],
          lifetime_s: 3600,
          scope: "compute.create",
        },
      },
    };
    const lines: string[] = [];
    const logged = createLogger({
      name: "frontend-test",
      level: "warn",
      destination: { write: (l: string) => void lines.push(l) },
    });
    const daemon = createFrontendDaemon(cfg, { peers: peers(), logger: logged });
    const carried = async () => {
      await daemon.cycle();
      const ads = (await clientAds()).map((a) => ClassAd.fromJSON(a));
      const sealed = ads
        .find((a) => a.evaluate("ReqGlidein") === "ce_a@gfactory@test")
        ?.evaluate("GlideinEncParamSubmitToken");
      return typeof sealed === "string"
        ? decryptCredential(sealed, keyA.privateKey).toString()
        : undefined;
    };
    try {
      assert.equal(
        await carried(),
        readFileSync(forCe, "utf8").trim(),
        "the file's token for this CE",
      );
      assert.ok(
        lines.some((l) => l.includes("cannot read a CE token file") && l.includes("bt-missing")),
      );

      // The token service refreshes the file in place: the next cycle sends the new token.
      const refreshed = await issue({ lifetimeS: 5400 });
      writeFileSync(forCe, refreshed, { mode: 0o600 });
      assert.equal(await carried(), refreshed);

      // A token that may not submit (no compute.create) is not sent; the log says which check.
      const readOnly = await issue({ scope: "compute.read" });
      writeFileSync(forCe, readOnly, { mode: 0o600 });
      lines.length = 0;
      assert.equal(await carried(), undefined);
      const warned = lines.find((l) => l.includes("CE token not made"));
      assert.ok(warned, lines.join(""));
      assert.match(warned, /bt-ce: scope: the token does not grant compute\.create/);
      assert.match(warned, /bt-other: audience/);
      for (const t of [readOnly, refreshed]) {
        assert.ok(!lines.join("").includes(t.split(".")[2]!), "no token in the log");
      }
    } finally {
      await daemon.stop();
    }
  });
});

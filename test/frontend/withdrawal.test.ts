/**
 * Withdrawal over two cycles of a real frontend with a real collector and schedd: jobs want two
 * sites in cycle 1; their jobs for one site are removed; in cycle 2 that entry's GlideClient ad
 * is gone from the collector while the other entry's request stays, and a third cycle has
 * nothing left to withdraw.
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
import { createFrontendDaemon, type FrontendDaemon } from "../../src/frontend/daemon.js";
import { entryStatuses } from "../../src/frontend/status.js";
import { pubKeyId } from "../../src/security/credential-crypto.js";
import { createPool, DN, startCollector, type Pool, type Running } from "../collector/harness.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";

const log = createLogger({ name: "frontend-withdrawal-test", level: "silent" });

function entryAd(name: string, site: string) {
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();
  return {
    MyType: '"GlideFactory"',
    Name: JSON.stringify(`${name}@gfactory@test`),
    FactoryName: '"gfactory"',
    GLIDEIN_Site: JSON.stringify(site),
    GLIDEIN_CPUS: "1",
    GLIDEIN_MaxMemMBs: "4000",
    GLIDEIN_TrustDomain: '"grid"',
    PubKeyID: JSON.stringify(pubKeyId(pem)),
    PubKeyValue: JSON.stringify(pem),
  };
}

let pool: Pool;
let collector: Running;
let schedd: TestEnv;
let dir: string;
let daemon: FrontendDaemon;

before(async () => {
  pool = createPool();
  collector = await startCollector(pool);
  schedd = await startEnv();
  dir = mkdtempSync(join(tmpdir(), "updraft-frontend-withdraw-"));
  writeFileSync(join(dir, "token"), "pilot-token");
  await collector
    .as("factory")
    .advertise([entryAd("ce_a", "SiteA"), entryAd("ce_b", "SiteB")], "GlideFactory");
  const config = parseFrontendConfig(
    JSON.stringify({
      name: "vo",
      collector: { url: collector.url },
      schedds: [schedd.schedd.url()],
      security: {
        identity: DN.frontend,
        credentials: [{ file: join(dir, "token"), type: "token", trust_domain: "grid" }],
      },
      factories: [{ name: "gfactory", identity: DN.factory }],
      groups: [
        {
          name: "main",
          match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
          limits: { ramp_up_attenuation: 1 },
        },
      ],
    } satisfies FrontendConfigInput),
  );
  daemon = createFrontendDaemon(config, {
    peers: {
      collector: collector.as("frontend"),
      schedds: [{ url: schedd.schedd.url(), client: schedd.client("frontend") }],
      timeoutMs: 2000,
    },
    logger: log,
  });
});

after(async () => {
  await daemon.stop();
  await collector.stop();
  await schedd.close();
  pool.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** ReqIdleGlideins by requested entry, as the collector holds the GlideClient ads. */
async function requests(): Promise<Record<string, number>> {
  const ads = await collector.as("reader").query({ type: "GlideClient" });
  const out: Record<string, number> = {};
  for (const wire of ads) {
    const ad = ClassAd.fromJSON(wire);
    out[String(ad.evaluate("ReqGlidein"))] = Number(ad.evaluate("ReqIdleGlideins"));
  }
  return out;
}

test("an entry wanted in cycle 1 and not in cycle 2 has its GlideClient ad withdrawn", async () => {
  const bob = schedd.client("bob");
  const forA = await submit(bob, [
    job({ DESIRED_Sites: '"SiteA"' }),
    job({ DESIRED_Sites: '"SiteA"' }),
  ]);
  await submit(bob, [job({ DESIRED_Sites: '"SiteB"' })]);

  const first = await daemon.cycle();
  assert.equal(first.withdrawn, 0);
  assert.deepEqual(await requests(), {
    "ce_a@gfactory@test": 2,
    "ce_b@gfactory@test": 1,
  });

  // SiteA's jobs leave the queue: nothing wants ce_a any more (no jobs, no pilots, no removal).
  await bob.act("remove", { ids: [`${forA}`] }, "not needed");
  const second = await daemon.cycle();
  assert.deepEqual(second.result.withdraw, ["ce_a@gfactory@test@vo.main"]);
  assert.equal(second.withdrawn, 1);
  assert.deepEqual(await requests(), { "ce_b@gfactory@test": 1 }, "ce_a withdrawn, ce_b kept");

  // Monitoring still lists ce_a, now without a request; status says so.
  const [resources, clients] = await Promise.all([
    collector.as("reader").query({ type: "GlideResource" }),
    collector.as("reader").query({ type: "GlideClient" }),
  ]);
  const rows = entryStatuses(resources, clients);
  const a = rows.find((r) => r.entry === "ce_a@gfactory@test")!;
  assert.equal(a.request, null);
  assert.equal(a.jobs?.count, 0);
  assert.equal(rows.find((r) => r.entry === "ce_b@gfactory@test")!.request?.idle, 1);

  // Withdrawn once: the next cycle has nothing left to invalidate.
  const third = await daemon.cycle();
  assert.deepEqual(third.result.withdraw, []);
  assert.equal(third.withdrawn, 0);
  assert.deepEqual(await requests(), { "ce_b@gfactory@test": 1 });
});

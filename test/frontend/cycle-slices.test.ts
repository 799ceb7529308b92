/**
 * The frontend's cycle in slices: a queue of jobs whose attributes cost the match all its step
 * budget is seconds of evaluation, and the daemon's loop gives other work turns between slices, so
 * its /metrics answers during such a cycle. What is compared is the order of events (calls'
 * turns), never their durations.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, test } from "node:test";
import type { CollectorClient } from "../../src/collector/client.js";
import { createLogger } from "../../src/common/logger.js";
import { planCycle, planCycleSliced } from "../../src/frontend/compute.js";
import { parseFrontendConfig, type FrontendConfigInput } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { groupPolicy } from "../../src/frontend/group-policy.js";
import { runInSlices, runToEnd } from "../../src/frontend/slices.js";
import type { ScheddClient } from "../../src/schedd/client.js";
import { createPool, DN, startCollector, type Pool, type Running } from "../collector/harness.js";
import { httpsGet } from "../helpers/https-get.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";
import { entryAd, minimalConfig, snapshot } from "./helpers.js";

const NOW = 1_790_000_000;
const CHAIN = 30;

/** Attributes that double their work at each of 30 references: 2^30 steps unbounded. */
function costly(tag: string): Record<string, string> {
  const attrs: Record<string, string> = { X0: "1" };
  for (let i = 1; i <= CHAIN; i++) attrs[`X${i}`] = `X${i - 1} + X${i - 1}`;
  return { ...attrs, DESIRED_Sites: `ifThenElse(X${CHAIN} > 0, "A", "${tag}")` };
}

const BOUNDS = { autoclusterSteps: 100_000, cycleSteps: 100_000_000 };

function hostileSnapshot() {
  return snapshot({
    autoclusters: [
      { id: "ok", schedd: "s1", count: 3, job: { DESIRED_Sites: '"A"' } },
      ...Array.from({ length: 12 }, (_, i) => ({
        id: String(i),
        schedd: "s1",
        count: 1,
        job: costly(`T${i}`),
      })),
    ],
    factory_ads: [entryAd("a", { GLIDEIN_Site: "A" }), entryAd("b", { GLIDEIN_Site: "B" })],
  });
}

/** Event-loop turns other work got while `run` ran. */
async function turnsDuring(run: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await run();
  done = true;
  return turns;
}

test("a hostile cycle run in slices gives the loop turns and plans what the whole run plans", async () => {
  const cfg = minimalConfig();
  const policy = groupPolicy(cfg.groups[0]!, cfg.match);
  const whole = planCycle(policy, hostileSnapshot(), NOW, BOUNDS);
  assert.equal(whole.overBound.length, 12, "every costly autocluster met its budget");
  assert.equal(whole.entries.find((e) => e.entry === "a")!.jobs.count, 3);

  let sliced: ReturnType<typeof planCycle> | undefined;
  const turns = await turnsDuring(async () => {
    sliced = await runInSlices(planCycleSliced(policy, hostileSnapshot(), NOW, BOUNDS), {
      sliceSteps: 20_000,
      sliceMs: 60_000,
    });
  });
  // Each costly autocluster spends its 100,000 steps in one evaluation, more than a slice: a turn
  // after each of the 12.
  assert.ok(turns >= 12, `other work had ${turns} turns during the cycle`);
  assert.deepEqual(sliced, whole);

  // Run whole, the same work gives other work no turn at all: what the slices are for.
  const none = await turnsDuring(async () => {
    runToEnd(planCycleSliced(policy, hostileSnapshot(), NOW, BOUNDS));
  });
  assert.equal(none, 0);
});

const MONITOR = "/DC=org/DC=example/CN=Grafana Agent";
const log = createLogger({ name: "frontend-slices-test", level: "silent" });

describe("the frontend daemon during a hostile cycle", () => {
  let pool: Pool;
  let collector: Running;
  let schedd: TestEnv;
  let dir: string;

  before(async () => {
    pool = createPool();
    collector = await startCollector(pool);
    schedd = await startEnv();
    dir = mkdtempSync(join(tmpdir(), "updraft-frontend-slices-"));
    writeFileSync(join(dir, "token"), "pilot-token");
    await collector.as("factory").advertise(
      [
        {
          MyType: '"GlideFactory"',
          Name: '"ce_a@gfactory@test"',
          FactoryName: '"gfactory"',
          GLIDEIN_Site: '"SiteA"',
          GLIDEIN_CPUS: "1",
          GLIDEIN_MaxMemMBs: "4000",
          GLIDEIN_TrustDomain: '"grid"',
        },
      ],
      "GlideFactory",
    );
    await submit(schedd.client("bob"), [
      job({ DESIRED_Sites: '"SiteA"' }),
      ...Array.from({ length: 16 }, (_, i) => job(costly(`T${i}`))),
    ]);
  });
  after(async () => {
    await collector.stop();
    await schedd.close();
    pool.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers /metrics between the end of its gathering and its first advertisement", async () => {
    const events: string[] = [];
    const gathered = <T>(p: Promise<T>): Promise<T> =>
      p.then((v) => {
        events.push("gathered");
        return v;
      });
    const real = collector.as("frontend");
    // The real clients, with their calls noted: when the snapshot is in, and when ads go out.
    const recordingCollector: CollectorClient = {
      ...real,
      query: (...a: Parameters<CollectorClient["query"]>) => gathered(real.query(...a)),
      advertise: (...a: Parameters<CollectorClient["advertise"]>) => {
        events.push("advertise");
        return real.advertise(...a);
      },
    };
    const sc = schedd.client("frontend");
    const recordingSchedd: ScheddClient = {
      ...sc,
      idleSummary: (...a: Parameters<ScheddClient["idleSummary"]>) =>
        gathered(sc.idleSummary(...a)),
    };
    const raw = {
      name: "vo",
      collector: { url: collector.url },
      schedds: [schedd.schedd.url()],
      tls: {
        cert_file: pool.creds.frontend.certFile,
        key_file: pool.creds.frontend.keyFile,
        trust_dir: pool.pki.caDir,
      },
      security: {
        identity: DN.frontend,
        credentials: [{ file: join(dir, "token"), type: "token", trust_domain: "grid" }],
      },
      factories: [{ name: "gfactory", identity: DN.factory }],
      autocluster_step_budget: 100_000,
      groups: [
        {
          name: "main",
          match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
          // The chain travels with each autocluster, so the frontend pays for it.
          match_attrs: {
            job: ["DESIRED_Sites", ...Array.from({ length: CHAIN + 1 }, (_, i) => `X${i}`)],
          },
        },
      ],
      metrics: {
        listen: { port: 0 },
        tls: { cert_file: pool.pki.host.certFile, key_file: pool.pki.host.keyFile },
        authorization: { rules: [{ identity: MONITOR, roles: ["monitor"] }] },
      },
    } satisfies FrontendConfigInput;
    const daemon = createFrontendDaemon(parseFrontendConfig(JSON.stringify(raw)), {
      peers: {
        collector: recordingCollector,
        schedds: [{ url: schedd.schedd.url(), client: recordingSchedd }],
        timeoutMs: 30_000,
      },
      logger: log,
      slices: { sliceSteps: 20_000, sliceMs: 60_000 },
    });
    try {
      await daemon.start();
      // The cycle start() began, then one more; the hostile jobs reached the frontend.
      const first = await daemon.cycle();
      assert.equal(first.result.plans[0]!.overBound.length, 16, "every costly autocluster counted");
      const port = Number(new URL(daemon.metricsUrl()!).port);
      const ca = readFileSync(pool.pki.caCertFile);
      const monitor = pool.pki.issueUser(MONITOR);
      events.length = 0;
      let cycling = true;
      const cycle = daemon.cycle().finally(() => (cycling = false));
      while (cycling) {
        const r = await httpsGet({ port, path: "/metrics", ca, cred: monitor });
        assert.equal(r.status, 200);
        events.push("metrics");
      }
      await cycle;
      const lastGathered = events.lastIndexOf("gathered");
      const firstAdvertise = events.indexOf("advertise");
      assert.ok(lastGathered >= 0 && firstAdvertise > lastGathered, events.join(" "));
      const during = events.slice(lastGathered, firstAdvertise).filter((e) => e === "metrics");
      assert.ok(during.length > 0, `no scrape answered during the match: ${events.join(" ")}`);
    } finally {
      await daemon.stop();
    }
  });
});

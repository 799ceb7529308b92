/**
 * The frontend's metrics, scraped from its own listener over real TLS after a real cycle against
 * a real collector and schedd: what each group asked of each entry and why.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/common/logger.js";
import { type FrontendConfigInput, parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { ConfigError } from "../../src/common/config.js";
import { createPool, DN, startCollector, type Pool, type Running } from "../collector/harness.js";
import { httpsGet } from "../helpers/https-get.js";
import { parsePrometheusText, sample } from "../helpers/prometheus-text.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";

const log = createLogger({ name: "frontend-metrics-test", level: "silent" });
const MONITOR = "/DC=org/DC=example/CN=Grafana Agent";

const entryAd = (name: string, site: string) => ({
  MyType: '"GlideFactory"',
  Name: JSON.stringify(`${name}@gfactory@test`),
  FactoryName: '"gfactory"',
  GLIDEIN_Site: JSON.stringify(site),
  GLIDEIN_CPUS: "1",
  GLIDEIN_MaxMemMBs: "4000",
  GLIDEIN_TrustDomain: '"grid"',
});

describe("frontend metrics", () => {
  let pool: Pool;
  let collector: Running;
  let schedd: TestEnv;
  let dir: string;

  before(async () => {
    pool = createPool();
    collector = await startCollector(pool);
    schedd = await startEnv();
    dir = mkdtempSync(join(tmpdir(), "updraft-frontend-metrics-"));
    writeFileSync(join(dir, "token"), "pilot-token");
    await collector
      .as("factory")
      .advertise([entryAd("ce_a", "SiteA"), entryAd("ce_b", "SiteB")], "GlideFactory");
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

  const raw = (over: Record<string, unknown> = {}) =>
    ({
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
      groups: [
        {
          name: "main",
          match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
          limits: { ramp_up_attenuation: 1, idle_glideins_per_entry: { max: 2 } },
        },
      ],
      metrics: {
        listen: { port: 0 },
        tls: { cert_file: pool.pki.host.certFile, key_file: pool.pki.host.keyFile },
        authorization: { rules: [{ identity: MONITOR, roles: ["monitor"] }] },
      },
      ...over,
    }) satisfies FrontendConfigInput;

  it("a monitor reads what each group asked of each entry, and the limit that bound it", async () => {
    const daemon = createFrontendDaemon(parseFrontendConfig(JSON.stringify(raw())), {
      peers: {
        collector: collector.as("frontend"),
        schedds: [{ url: schedd.schedd.url(), client: schedd.client("frontend") }],
        timeoutMs: 5000,
      },
      logger: log,
    });
    try {
      await daemon.start();
      const url = new URL(daemon.metricsUrl()!);
      assert.equal(url.protocol, "https:");
      // start() ran the first cycle; this one runs after it, on the same snapshot.
      await daemon.cycle();
      const ca = readFileSync(pool.pki.caCertFile);
      const get = (cred?: { certPem: string; keyPem: string }) =>
        httpsGet({ port: Number(url.port), path: "/metrics", ca, cred });
      const r = await get(pool.pki.issueUser(MONITOR));
      assert.equal(r.status, 200);
      const m = parsePrometheusText(r.body);
      const a = { group: "main", entry: "ce_a@gfactory@test" };
      const b = { group: "main", entry: "ce_b@gfactory@test" };
      assert.equal(sample(m, "updraft_frontend_matched_idle_jobs", a), 3);
      assert.equal(sample(m, "updraft_frontend_matched_idle_jobs", b), 0);
      assert.equal(sample(m, "updraft_frontend_requested_idle_pilots", a), 2);
      assert.equal(sample(m, "updraft_frontend_requested_idle_pilots", b), 0);
      assert.equal(sample(m, "updraft_frontend_requested_max_pilots", a), 4);
      assert.equal(sample(m, "updraft_frontend_requested_max_pilots", b), 0);
      assert.equal(
        sample(m, "updraft_frontend_request_limited", {
          ...a,
          limit: "idle_glideins_per_entry.max",
        }),
        1,
      );
      assert.equal(
        sample(m, "updraft_frontend_request_limited", { ...b, limit: "no-idle-jobs" }),
        1,
      );
      assert.equal(sample(m, "updraft_frontend_idle_jobs", { group: "main" }), 3);
      assert.equal(sample(m, "updraft_frontend_unreachable_peers", {}), 0);
      assert.equal(sample(m, "updraft_frontend_cycles_total", { outcome: "ok" }), 2);
      assert.equal(sample(m, "updraft_frontend_cycle_duration_seconds_count", {}), 2);
      assert.equal(sample(m, "updraft_frontend_pilots", { ...a, state: "running" }), 0);

      const denied = await get(pool.creds.admin);
      assert.equal(denied.status, 403, "admin of the pool, but no rule here");
      assert.equal((await get()).status, 401);
    } finally {
      await daemon.stop();
    }
  });

  it("a metrics block without tls is refused at load, naming what is missing", () => {
    const cfg = raw();
    delete (cfg as Record<string, unknown>).tls;
    assert.throws(
      () => parseFrontendConfig(JSON.stringify(cfg)),
      (e: unknown) => e instanceof ConfigError && /metrics needs the tls section/.test(e.message),
    );
  });
});

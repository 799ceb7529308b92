import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { holdReasonShape, registerFactoryMetrics } from "../../src/factory/metrics.js";
import { MAX_SERIES_PER_METRIC } from "../../src/wire/metric-labels.js";
import { parsePilotReport } from "../../src/factory/pilot-report.js";
import { FactoryStore } from "../../src/factory/store.js";
import { createDaemonRegistry } from "../../src/wire/metrics-route.js";
import { httpsGet } from "../helpers/https-get.js";
import { parsePrometheusText, sample } from "../helpers/prometheus-text.js";
import { createFactoryWorld, type FactoryWorld, silent } from "./factory-harness.js";

const MONITOR = "/DC=org/DC=example/CN=Prometheus";

const report = (failure: string) =>
  'echo "=== Pilot report begin ==="\n' +
  `echo '{"version":1,"pilotId":"p1","host":"h","startedAt":"","endedAt":"","idleS":0,` +
  `"validation":{"ok":false,"checks":[],"failure":{"class":"${failure}","message":"no"}},` +
  `"jobs":[],"durationS":1,"exit":{"reason":"validation","code":13,"failureClass":"${failure}"}}'\n` +
  'echo "=== Pilot report end ==="\nexit 13\n';

let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
});
after(async () => {
  await w.cleanup();
});

async function until(fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a monitor scrapes the factory's own listener: pilots, submissions, failures by class, requests and cycles", async () => {
  const monitor = w.pool.pki.issueUser(MONITOR);
  const ca = readFileSync(w.pool.pki.caCertFile);
  const cfg = w.config({
    top: {
      work_dir: join(w.dir, "work-metrics"),
      metrics: {
        listen: { port: 0 },
        tls: { cert_file: w.pool.pki.host.certFile, key_file: w.pool.pki.host.keyFile },
        authorization: { rules: [{ identity: MONITOR, roles: ["monitor"] }] },
      },
    },
    pilotScript: report("Config"),
    entry: { limits: { per_entry: { max_idle: 2 } } },
  });
  await w.collector.as("frontend").advertise([w.glideClient()], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  try {
    await daemon.start();
    const url = new URL(daemon.metricsUrl()!);
    assert.equal(url.protocol, "https:");
    assert.equal(url.hostname, "127.0.0.1");
    const get = (cred?: { certPem: string; keyPem: string }) =>
      httpsGet({ port: Number(url.port), path: "/metrics", ca, cred });
    await until(async () => {
      await daemon.cycle();
      return daemon.store.counters().some((c) => c.name === "failed" && c.value >= 2);
    });
    const r = await get(monitor);
    assert.equal(r.status, 200);
    assert.match(String(r.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(r.body);
    const who = { entry: "local1", client: "fe.main" };
    const submitted = sample(m, "updraft_factory_pilot_submissions_total", who);
    assert.ok(submitted !== undefined && submitted >= 2, `submitted ${submitted}`);
    const failed = sample(m, "updraft_factory_pilot_failures_total", { ...who, class: "Config" });
    assert.ok(failed !== undefined && failed >= 2, `failed ${failed}`);
    assert.equal(sample(m, "updraft_factory_requested_idle_pilots", who), 3);
    assert.equal(sample(m, "updraft_factory_requested_max_pilots", who), 10);
    // At most two idle at the entry: the entry's max_idle bound the request of three.
    assert.equal(
      sample(m, "updraft_factory_request_limited", { ...who, limit: "entry.max_idle" }),
      1,
    );
    const cycles = sample(m, "updraft_factory_cycle_duration_seconds_count", {});
    assert.ok(cycles !== undefined && cycles >= 2);
    assert.ok(sample(m, "updraft_factory_cycle_step_duration_seconds_count", { step: "poll" }));
    assert.ok(sample(m, "updraft_process_cpu_seconds_total", {}) !== undefined);
    assert.equal(m.types.get("updraft_factory_pilot_failures_total"), "counter");
    assert.equal(m.types.get("updraft_factory_cycle_duration_seconds"), "histogram");

    // A certificate alone reads nothing: the reader has no rule in the metrics block.
    const denied = await get(w.pool.creds.reader);
    assert.equal(denied.status, 403);
    assert.doesNotMatch(denied.body, /updraft_factory/);
    const anonymous = await get();
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.body, /updraft_factory/);
  } finally {
    await daemon.stop();
  }
});

test("a failure class the pilot made up is not believed: it counts as Unknown", () => {
  const out = [
    "=== Pilot report begin ===",
    JSON.stringify({
      version: 1,
      pilotId: "p",
      host: "h",
      startedAt: "",
      endedAt: "",
      idleS: 0,
      jobs: [],
      durationS: 1,
      exit: { reason: "validation", code: 13, failureClass: 'x"} 1\nupdraft_evil{a="' },
    }),
    "=== Pilot report end ===",
  ].join("\n");
  const o = parsePilotReport(out);
  assert.equal(o.reported, true);
  assert.equal(o.failureClass, undefined);
});

test("labels from outside are bounded: series per metric capped, the rest summed as _other", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-factory-metrics-"));
  const store = new FactoryStore(join(dir, "factory.db"));
  try {
    const clients = MAX_SERIES_PER_METRIC + 500;
    store.transaction(() => {
      for (let i = 0; i < clients; i++) store.count("e1", `fe.g${i}`, "submitted", 2);
      store.count("e1", "fe.long", "failed", 1);
      store.count("e1", "\u0007".repeat(500), "failed", 1);
    });
    const registry = createDaemonRegistry({ processMetrics: false });
    registerFactoryMetrics(registry, store);
    const m = parsePrometheusText(await registry.metrics());
    const subs = m.samples.filter((s) => s.name === "updraft_factory_pilot_submissions_total");
    assert.equal(subs.length, MAX_SERIES_PER_METRIC);
    assert.equal(
      subs.reduce((a, s) => a + s.value, 0),
      clients * 2,
      "no submission is lost to the cap",
    );
    assert.ok(subs.some((s) => s.labels.client === "_other" && s.labels.entry === "_other"));
    const fails = m.samples.filter((s) => s.name === "updraft_factory_pilot_failures_total");
    assert.equal(fails.length, 2);
    assert.ok(fails.every((s) => s.labels.class === "Unknown" && s.labels.client!.length <= 128));
    assert.ok(fails.every((s) => /^[\x20-\x7e]*$/.test(s.labels.client!)));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("one page reads each of the store's tables once, and the next page reads them afresh", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-factory-metrics-"));
  const store = new FactoryStore(join(dir, "factory.db"));
  try {
    store.count("e1", "fe.g1", "submitted", 3);
    store.count("e1", "fe.g1", "failed", 1);
    const reads = { counters: 0, live: 0, clientStatuses: 0 };
    for (const name of ["counters", "live", "clientStatuses"] as const) {
      const read = store[name].bind(store);
      (store as unknown as Record<string, () => unknown>)[name] = () => {
        reads[name]++;
        return read();
      };
    }
    const registry = createDaemonRegistry({ processMetrics: false });
    registerFactoryMetrics(registry, store);
    await registry.metrics();
    assert.deepEqual(reads, { counters: 1, live: 1, clientStatuses: 1 });
    store.count("e1", "fe.g1", "submitted", 4);
    const m = parsePrometheusText(await registry.metrics());
    assert.deepEqual(reads, { counters: 2, live: 2, clientStatuses: 2 });
    const subs = m.samples.find((x) => x.name === "updraft_factory_pilot_submissions_total");
    assert.equal(subs?.value, 7, "the second page sees the count made after the first");
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hold reasons are reduced to their shape, so one reason is one series", () => {
  assert.equal(
    holdReasonShape("Slurm job 123 is held (JobHeldAdmin)"),
    holdReasonShape("Slurm job 98765 is held (JobHeldUser)"),
  );
  assert.equal(
    holdReasonShape("the CE failed the job: disk quota exceeded"),
    "the CE failed the job",
  );
  assert.equal(holdReasonShape(null), "unknown");
  assert.ok(holdReasonShape("x".repeat(1000)).length <= 80);
});

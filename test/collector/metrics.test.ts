import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { httpsGet } from "../helpers/https-get.js";
import { parsePrometheusText, sample } from "../helpers/prometheus-text.js";
import { createPool, DN, type Pool, type Running, slotAd, startCollector } from "./harness.js";

const MONITOR = "/DC=org/DC=example/CN=Prometheus";

let pool: Pool;
let c: Running;
let ca: Buffer;
let monitor: { certPem: string; keyPem: string };

before(async () => {
  pool = createPool();
  monitor = pool.pki.issueUser(MONITOR);
  ca = readFileSync(pool.pki.caCertFile);
  const config = pool.config();
  config.authorization.rules.push({ identity: MONITOR, roles: ["monitor"] });
  c = await startCollector(pool, config);
});
after(async () => {
  await c.stop();
  pool.cleanup();
});

function get(path: string, cred?: { certPem: string; keyPem: string }, method = "GET") {
  return httpsGet({ port: c.daemon.server.address().port, path, ca, cred, method });
}

test("a monitor scrapes /metrics: ads by type, updates and process metrics", async () => {
  await c.as("pilot").advertise([slotAd(1), slotAd(2), slotAd(3)]);
  await c.as("pilot").advertise([slotAd(1)]);
  const r = await get("/metrics", monitor);
  assert.equal(r.status, 200);
  assert.match(String(r.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  assert.match(r.body, /^updraft_collector_ads\{type="Slot"\} 3$/m);
  assert.match(r.body, /^updraft_collector_updates_total\{type="Slot"\} 4$/m);
  assert.match(r.body, /^updraft_collector_watchers 0$/m);
  assert.match(r.body, /^updraft_rpc_connections [1-9]\d*$/m, "the pilot's connection at least");
  assert.match(r.body, /^updraft_process_cpu_seconds_total /m);
});

test("removals are counted by reason", async () => {
  await c.as("pilot").advertise([slotAd(9)]);
  const removed = await c
    .as("pilot")
    .invalidate({ type: "Slot", name: "slot1@glidein_9@wn9.example.org" });
  assert.ok(removed);
  const r = await get("/metrics", monitor);
  assert.match(r.body, /^updraft_collector_removals_total\{type="Slot",reason="invalidated"\} 1$/m);
});

test("without a client certificate /metrics is refused with 401", async () => {
  const r = await get("/metrics");
  assert.equal(r.status, 401);
  assert.equal(r.headers["x-updraft-error"], "unauthenticated");
  assert.doesNotMatch(r.body, /updraft_collector/);
});

test("an identity without the monitor role gets 403", async () => {
  const r = await get("/metrics", pool.creds.reader);
  assert.equal(r.status, 403);
  assert.match(String(r.headers["x-updraft-reason"]), new RegExp(DN.reader.replace(/[/=]/g, ".")));
  assert.doesNotMatch(r.body, /updraft_collector/);
});

test("other paths and methods are refused", async () => {
  assert.equal((await get("/", monitor)).status, 426);
  assert.equal((await get("/metrics/../etc", monitor)).status, 426);
  assert.equal((await get("/metrics", monitor, "POST")).status, 405);
  assert.equal((await get("/metrics?x=1", monitor)).status, 200);
});

test("RPC latency per method and outcome, and refused connections by cause", async () => {
  await c.as("pilot").advertise([slotAd(20)]);
  await assert.rejects(
    c.as("pilot").invalidate({ type: "Slot", constraint: "((" }),
    (e: Error & { code?: string }) => e.code === "invalid-argument",
  );
  assert.equal((await get("/metrics")).status, 401);
  assert.equal((await get("/metrics", pool.creds.reader)).status, 403);
  const m = parsePrometheusText((await get("/metrics", monitor)).body);
  const ok = sample(m, "updraft_rpc_duration_seconds_count", {
    method: "collector.Advertise",
    code: "ok",
  });
  assert.ok(ok !== undefined && ok >= 1, `advertise calls ${ok}`);
  assert.equal(
    sample(m, "updraft_rpc_duration_seconds_count", {
      method: "collector.Invalidate",
      code: "invalid-argument",
    }),
    1,
  );
  assert.equal(m.types.get("updraft_rpc_duration_seconds"), "histogram");
  const noCert = sample(m, "updraft_refused_connections_total", { cause: "no-certificate" });
  const lacks = sample(m, "updraft_refused_connections_total", { cause: "lacks-role" });
  assert.ok(noCert !== undefined && noCert >= 1, `no-certificate ${noCert}`);
  assert.ok(lacks !== undefined && lacks >= 1, `lacks-role ${lacks}`);
});

test("queries are counted by the ad type asked for and how they ended; a type no pool knows is other", async () => {
  await c.as("pilot").advertise([slotAd(30)]);
  await c.as("reader").query({ type: "Slot", constraint: "Cpus >= 1" });
  await c.as("reader").query({ type: "Slot" });
  await c.as("reader").query({});
  await c.as("reader").query({ type: 'Evil"} 1\nupdraft_x{a="' });
  await assert.rejects(
    c.as("reader").query({ type: "Scheduler", constraint: "((" }),
    (e: Error & { code?: string }) => e.code === "invalid-argument",
  );
  const m = parsePrometheusText((await get("/metrics", monitor)).body);
  const q = (labels: Record<string, string>) =>
    sample(m, "updraft_collector_queries_total", labels);
  assert.ok((q({ type: "Slot", result: "ok" }) ?? 0) >= 2);
  assert.ok((q({ type: "any", result: "ok" }) ?? 0) >= 1);
  assert.equal(q({ type: "other", result: "ok" }), 1);
  assert.equal(q({ type: "Scheduler", result: "invalid" }), 1);
  assert.ok(m.samples.every((s) => !s.name.startsWith("updraft_x")));
});

test("a query stopped at its step budget counts as exhausted", async () => {
  const config = pool.config();
  config.authorization.rules.push({ identity: MONITOR, roles: ["monitor"] });
  config.limits.query_step_budget = 20;
  const small = await startCollector(pool, config);
  try {
    await small.as("pilot").advertise(Array.from({ length: 20 }, (_, i) => slotAd(100 + i)));
    await assert.rejects(
      small.as("reader").query({ type: "Slot", constraint: 'regexp("a", Name) || Cpus > 0' }),
      (e: Error & { code?: string }) => e.code === "resource-exhausted",
    );
    const r = await httpsGet({
      port: small.daemon.server.address().port,
      path: "/metrics",
      ca,
      cred: monitor,
    });
    const m = parsePrometheusText(r.body);
    assert.equal(
      sample(m, "updraft_collector_queries_total", { type: "Slot", result: "exhausted" }),
      1,
    );
  } finally {
    await small.stop();
  }
});

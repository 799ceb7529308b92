/**
 * The pool page's routes on a real collector: the live view read from its ads, the history
 * sampled into SQLite and served as plots, the page and uPlot from this origin under a strict
 * Content-Security-Policy, and the same authentication as /metrics.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import { poolPageRoutes, VIEW_CACHE_MS } from "../../src/monitor/pool-page.js";
import { poolView } from "../../src/monitor/pool-view.js";
import { httpsGet } from "../helpers/https-get.js";
import {
  HOSTILE_ENTRY,
  LAST_FAILURE,
  type PoolFixture,
  RECENT_FAILURES,
  startPoolFixture,
} from "./pool-fixture.js";

let f: PoolFixture;
before(async () => {
  f = await startPoolFixture();
});
after(() => f.stop());

/** As the monitor unless another credential, or none (null), is given. */
const get = (path: string, cred: { certPem: string; keyPem: string } | null = f.monitor) =>
  httpsGet({ port: f.port(), path, ca: f.ca, cred: cred ?? undefined });

test("view.json: entries, requests, jobs per owner, failures and cores from the ads", async () => {
  const r = await get("/pool/view.json");
  assert.equal(r.status, 200);
  const view = JSON.parse(r.body);
  assert.equal(view.history, true);
  const a = view.entries.find((e: { entry: string }) => e.entry === "CE_A@factory1");
  assert.deepEqual(
    [a.idle, a.running, a.held, a.requestedIdle, a.requestedMax, a.limits, a.downtime],
    [2, 5, 1, 4, 20, "entry.max_idle", false],
  );
  assert.deepEqual(a.failedByClass, { Network: 1, WN_Resource: 2 });
  assert.equal(
    a.lastError,
    LAST_FAILURE,
    "the whole summary, past the 200 characters of other texts",
  );
  assert.equal(
    view.entries.find((e: { entry: string }) => e.entry === "CE_B@factory1").downtime,
    true,
  );
  // Text from ads is passed as text; the page never parses it as HTML.
  assert.ok(view.entries.some((e: { entry: string }) => e.entry === `${HOSTILE_ENTRY}@factory1`));
  assert.deepEqual(view.groups[0], {
    frontend: "vo",
    group: "main",
    entry: "CE_A@factory1",
    matchingIdleJobs: 37,
    requestedIdle: 4,
    requestedMax: 20,
    limits: "idle_glideins_per_entry.max",
  });
  assert.deepEqual(
    view.jobs.map((j: { owner: string; idle: number }) => [j.owner, j.idle]),
    [
      ["alice", 10],
      ["bob", 2],
    ],
  );
  assert.deepEqual(view.cores, [
    { entry: "CE_A@factory1", slots: 2, cores: 8, busyCores: 6, jobs: 6 },
  ]);
  assert.deepEqual(
    view.recentFailures,
    RECENT_FAILURES.map((x) => ({ ...x, entry: "CE_A@factory1" })),
  );
  assert.deepEqual(view.jobCpu, [
    { schedd: "schedd@submit.example.org", entry: "CE_A", factory: "factory1", cpuSeconds: 1000 },
  ]);
  assert.equal(a.pilotCoreSeconds, 7200);
  // An entry whose factory sends no core-seconds is not taken to have none.
  assert.equal(
    view.entries.find((e: { entry: string }) => e.entry === "CE_B@factory1").pilotCoreSeconds,
    null,
  );
});

test("history.json: samples land in buckets; failures are the counters' increase", async () => {
  assert.ok(f.c.daemon.sampleHistory() > 0);
  f.c.timers.advance(60_000); // the sampling timer takes the next pass
  await f.setFailures("Network:4,WN_Resource:2", 6);
  // In that minute CE_A's pilots held 3,600 core-seconds and its jobs used 1,800 CPU seconds.
  await f.setGoodput(1000 + 1800, 7200 + 3600);
  f.c.timers.advance(60_000);
  const r = await get("/pool/history.json?range=hour");
  assert.equal(r.status, 200);
  const h = JSON.parse(r.body);
  assert.equal(h.step_s, 60);
  assert.equal(h.xs.length, 60);
  const panel = (id: string) => h.panels.find((p: { id: string }) => p.id === id);
  const line = (id: string, label: string) =>
    panel(id).lines.find((l: { label: string }) => l.label === label).values;
  assert.equal(line("pilots", "running").at(-1), 5);
  assert.equal(line("pilots-running", "CE_A@factory1").at(-1), 5);
  assert.equal(line("jobs", "idle").at(-1), 12);
  // Jobs per entry: the dynamic slots of CE_A's two pilots, 4 and 2.
  assert.equal(line("jobs-running", "CE_A@factory1").at(-1), 6);
  assert.equal(line("requested", "CE_A@factory1").at(-1), 4);
  assert.equal(line("failures", "Network").at(-1), 3);
  assert.equal(line("failures", "WN_Resource").at(-1), 0);
  assert.equal(line("goodput", "pool").at(-1), 0.5);
  assert.equal(line("goodput", "CE_A@factory1").at(-1), 0.5);
  // The first passes only learned where the counters stood: no goodput for them.
  assert.equal(line("goodput", "pool").at(-2), null);
  assert.equal(line("occupancy", "pool").at(-1), 0.75);
  for (const range of ["day", "month", "year"]) {
    assert.equal((await get(`/pool/history.json?range=${range}`)).status, 200);
  }
  assert.equal((await get("/pool/history.json?range=decade")).status, 400);
});

test("the page and uPlot come from this origin under a strict CSP", async () => {
  const page = await get("/pool");
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-type"]), /^text\/html/);
  const csp = String(page.headers["content-security-policy"]);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.equal(page.headers["x-content-type-options"], "nosniff");
  // No resource from elsewhere, no inline script or style.
  assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(page.body, /<script>|<style|style=/);
  const uplot = await get("/pool/uPlot.iife.min.js");
  assert.equal(uplot.status, 200);
  assert.match(String(uplot.headers["content-type"]), /^text\/javascript/);
  assert.match(uplot.body, /uPlot/);
  assert.equal((await get("/pool/uPlot.min.css")).status, 200);
  assert.equal((await get("/pool/pool-app.js")).status, 200);
});

test("the page is read like /metrics: 401 without a certificate, 403 without the role", async () => {
  for (const path of ["/pool", "/pool/view.json", "/pool/history.json"]) {
    assert.equal((await get(path, null)).status, 401, path);
    assert.equal((await get(path, f.pool.creds.reader)).status, 403, path);
  }
  assert.equal((await get("/pool/../metrics")).status, 426);
});

test("the history file is 0600", () => {
  assert.equal(statSync(f.historyPath).mode & 0o777, 0o600);
});

test("view.json is rendered once for the requests of a short while, then afresh", async () => {
  let now = 1_000_000;
  let renders = 0;
  const entries: ClassAd[] = [];
  const routes = poolPageRoutes({
    adsOf: (type) => {
      if (type === "GlideFactory") renders++;
      return type === "GlideFactory" ? entries : [];
    },
    now: () => now,
  });
  const view = routes["/pool/view.json"]!;
  const first = await view.handler({ query: new URLSearchParams() });
  entries.push(ClassAd.parse('[ MyType = "GlideFactory"; Name = "CE_Z@f"; EntryName = "CE_Z" ]'));
  now += VIEW_CACHE_MS - 1;
  assert.equal((await view.handler({ query: new URLSearchParams() })).body, first.body);
  assert.equal(renders, 1);
  now += 1;
  const fresh = await view.handler({ query: new URLSearchParams() });
  assert.equal(renders, 2);
  assert.notEqual(fresh.body, first.body, "the entry added meanwhile shows once the view expires");
});

test("a client's last failure is cut at 640 characters and its control characters blanked", () => {
  const q = (s: string) => JSON.stringify(s);
  const ads = new Map([
    [
      "GlideFactory",
      [ClassAd.fromJSON({ MyType: q("GlideFactory"), Name: q("E@f"), EntryName: q("E") })],
    ],
    [
      "GlideFactoryClient",
      [
        ClassAd.fromJSON({
          MyType: q("GlideFactoryClient"),
          Name: q("E@f@c"),
          ReqGlidein: q("E@f"),
          GlideinMonitorLastFailure: q(`pilot 1 failed\t\n${"x".repeat(5000)}`),
        }),
      ],
    ],
  ]);
  const view = poolView((t) => ads.get(t) ?? [], 0);
  const last = view.entries[0]!.lastError;
  assert.equal(last.length, 640);
  assert.match(last, /^pilot 1 failed {2}x+$/);
});

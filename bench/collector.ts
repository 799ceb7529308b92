/**
 * Collector benchmark: a real collector (`updraft collector`, in a child process so its resident
 * memory is its own) holding 100,000 realistic slot ads, re-advertised by pilots over mTLS from
 * several connections, then queried with a constraint matching about 1% of the slots.
 *
 * Batching is as a pool's schedd or a tree of collectors forwards: several ads per Advertise
 * call. Payloads are encoded before the clock starts so the figure is the collector's, not the
 * benchmark's client-side protobuf encoding.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ClassAd } from "../src/classad/index.js";
import { fileURLToPath } from "node:url";
import { collectorCodecs } from "../src/collector/service.js";
import { openHistory } from "../src/monitor/history-store.js";
import { VIEW_CACHE_MS } from "../src/monitor/pool-page.js";
import { createPoolSampler } from "../src/monitor/pool-sampler.js";
import { createRpcClient, type RpcClient } from "../src/wire/index.js";
import { createTestPki } from "../test/helpers/pki.js";
import { readProcTimes } from "./lib/proc-cpu.js";
import { load1 } from "./lib/render-cpu.js";
import { siteName, slotAd } from "./lib/slot-ads.js";

const ADS = 100_000;
const BATCH = 250;
const CONNECTIONS = 4;
const IN_FLIGHT_PER_CONNECTION = 2;
const UPDATE_ROUNDS = 3;
const QUERY_RUNS = 21;
const PILOT_DN = "/DC=org/DC=example/OU=Pilots/CN=bench-pilot";
const READER_DN = "/DC=org/DC=example/CN=bench-reader";
const MONITOR_DN = "/DC=org/DC=example/CN=bench-monitor";
const SCRAPE_RUNS = 21;

const bin = fileURLToPath(new URL("../../bin/updraft.js", import.meta.url));

function report(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

async function startCollector(configFile: string): Promise<ChildProcess> {
  // UPDRAFT_BENCH_PROFILE=DIR writes the collector's CPU profile there (node --cpu-prof).
  const profile = process.env.UPDRAFT_BENCH_PROFILE;
  const flags = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...flags, bin, "collector", "--config", configFile], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGTERM")
      process.stderr.write(`collector exited ${code ?? signal}\n`);
  });
  return child;
}

/** Encoded Advertise payloads: every ad once per batch, in `round`'s state. */
function encodeRound(round: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let start = 0; start < ADS; start += BATCH) {
    const ads = [];
    for (let i = start; i < Math.min(ADS, start + BATCH); i++)
      ads.push({ attrs: slotAd(i, round) });
    out.push(collectorCodecs.batch.encode({ ads, type: "" }));
  }
  return out;
}

/** Send every payload over the clients, keeping a few calls in flight on each; checks outcomes. */
async function sendAll(clients: RpcClient[], payloads: Uint8Array[]): Promise<number> {
  let next = 0;
  let stored = 0;
  const worker = async (rpc: RpcClient) => {
    while (next < payloads.length) {
      const payload = payloads[next++]!;
      const reply = collectorCodecs.outcomes.decode(
        await rpc.call("collector.Advertise", payload, { deadlineMs: 60_000 }),
      );
      for (const o of reply.outcomes) {
        if (!o.ok) throw new Error(`ad refused: ${o.message}`);
        stored++;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (const rpc of clients)
    for (let k = 0; k < IN_FLIGHT_PER_CONNECTION; k++) workers.push(worker(rpc));
  await Promise.all(workers);
  return stored;
}

async function queryLatencies(reader: RpcClient): Promise<{ medianMs: number; matched: number }> {
  const query = {
    type: "Slot",
    constraint: `GLIDEIN_Site == "${siteName(7)}" && Memory >= 2048 && State =!= "Drained"`,
    projection: ["Name", "Cpus", "Memory"],
    limit: 0,
  };
  const payload = collectorCodecs.query.encode(query);
  const times: number[] = [];
  let matched = 0;
  for (let run = 0; run < QUERY_RUNS; run++) {
    const t0 = process.hrtime.bigint();
    matched = 0;
    for await (const page of reader.stream("collector.Query", payload, { deadlineMs: 30_000 })) {
      matched += collectorCodecs.page.decode(page).ads.length;
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, matched };
}

/** Median time of a full GET /metrics, as Prometheus makes it (a fresh TLS connection each). */
/**
 * GET `path` SCRAPE_RUNS times over a new mTLS connection each, as Prometheus does: the median
 * wall time, and the collector process's CPU per request from /proc (its handshake included),
 * averaged over the runs since /proc counts in 10 ms ticks.
 */
async function scrape(
  pid: number,
  port: number,
  path: string,
  cred: { certPem: string; keyPem: string },
  ca: Buffer,
  /** Pause before each request, for a route that serves one rendering for a while. */
  gapMs = 0,
): Promise<{ medianMs: number; cpuMs: number; body: string }> {
  const once = () =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          servername: "localhost",
          port,
          path,
          ca,
          agent: false,
          cert: cred.certPem,
          key: cred.keyPem,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (body += d));
          res.on("end", () =>
            res.statusCode === 200
              ? resolve(body)
              : reject(new Error(`GET ${path}: ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  await once(); // warm-up: first-use compilation is not a scrape's cost
  const cpuBefore = readProcTimes(pid)!.selfMs;
  const times: number[] = [];
  let body = "";
  for (let run = 0; run < SCRAPE_RUNS; run++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const t0 = process.hrtime.bigint();
    body = await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpuMs = (readProcTimes(pid)!.selfMs - cpuBefore) / SCRAPE_RUNS;
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, cpuMs, body };
}

const tenths = (x: number) => Math.round(x * 10) / 10;

const HISTORY_SAMPLES = 7;

/**
 * The collector's history write, in this process with the collector's own code: one sample of
 * the pool (its view from 100,000 slot ads, 300 entries' GlideFactory and GlideFactoryClient
 * ads) added to the SQLite history, each in a new minute so every sample writes its buckets.
 * The CPU per sample (median), and its share of a core at the default sample_s of 60.
 */
function historySampleBench(): { cpuMs: number; series: number } {
  const ads = new Map<string, ClassAd[]>([
    ["Slot", Array.from({ length: ADS }, (_, i) => ClassAd.fromJSON(slotAd(i)))],
  ]);
  const q = (s: string) => JSON.stringify(s);
  const entries = Array.from({ length: 300 }, (_, i) => `${siteName(i)}_CE${i % 3}`);
  ads.set(
    "GlideFactory",
    entries.map((e) =>
      ClassAd.fromJSON({
        MyType: q("GlideFactory"),
        Name: q(`${e}@factory1`),
        EntryName: q(e),
        FactoryName: q("factory1"),
        GlideinMonitorTotalStatusIdle: "20",
        GlideinMonitorTotalStatusRunning: "300",
        GlideinMonitorTotalStatusHeld: "2",
      }),
    ),
  );
  const clientAd = (e: string, failed: number) =>
    ClassAd.fromJSON({
      MyType: q("GlideFactoryClient"),
      Name: q(`${e}@factory1@vo.main`),
      ReqGlidein: q(`${e}@factory1`),
      ReqClientName: q("vo.main"),
      EntryName: q(e),
      FactoryName: q("factory1"),
      GlideinMonitorRequestedIdle: "4",
      GlideinMonitorRequestedMaxGlideins: "400",
      GlideinMonitorFailedPilots: String(failed),
      GlideinMonitorFailedByClass: q(`Network:${failed}`),
    });
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-history-"));
  const history = openHistory(join(dir, "history.sqlite"), { maxSeries: 2000 });
  try {
    const sampler = createPoolSampler(
      (type) => ads.get(type) ?? [],
      history,
      pino({ level: "silent" }),
    );
    const per: number[] = [];
    let series = 0;
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i <= HISTORY_SAMPLES; i++) {
      // Failures grow between samples, as a pool's do: each sample writes their increases too.
      ads.set(
        "GlideFactoryClient",
        entries.map((e) => clientAd(e, i)),
      );
      const before = process.cpuUsage();
      series = sampler.sample(t0 + i * 60_000);
      const used = process.cpuUsage(before);
      if (i > 0) per.push((used.user + used.system) / 1000); // the first one warms up
    }
    if (series < entries.length) throw new Error(`a sample wrote only ${series} series`);
    per.sort((a, b) => a - b);
    return { cpuMs: per[Math.floor(per.length / 2)]!, series };
  } finally {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const pki = createTestPki();
  const pilot = pki.issueUser(PILOT_DN);
  const reader = pki.issueUser(READER_DN);
  const monitor = pki.issueUser(MONITOR_DN);
  const port = await freePort();
  const configFile = join(pki.dir, "collector.yaml");
  writeFileSync(
    configFile,
    JSON.stringify({
      name: "collector@bench",
      listen: { host: "127.0.0.1", port },
      tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
      authorization: {
        rules: [
          { identity: PILOT_DN, roles: ["pilot"] },
          { identity: READER_DN, roles: ["read"] },
          { identity: MONITOR_DN, roles: ["monitor"] },
        ],
      },
      log_level: "warn",
    }),
  );
  // Encoded before any connection exists: a client busy encoding would miss the server's pings.
  const rounds = Array.from({ length: UPDATE_ROUNDS + 1 }, (_, r) => encodeRound(r));
  const child = await startCollector(configFile);
  const url = `wss://localhost:${port}/`;
  const connect = (cred: { certPem: string; keyPem: string }) =>
    createRpcClient({
      url,
      certPem: cred.certPem,
      keyPem: cred.keyPem,
      caDir: pki.caDir,
      backoff: { initialMs: 50, maxMs: 500 },
    });
  const clients = Array.from({ length: CONNECTIONS }, () => connect(pilot));
  const readerClient = connect(reader);
  try {
    await Promise.all([...clients, readerClient].map((c) => c.connected()));
    await sendAll(clients, rounds[0]!); // populate: 100,000 ads held
    const t0 = process.hrtime.bigint();
    let updates = 0;
    for (let r = 1; r <= UPDATE_ROUNDS; r++) updates += await sendAll(clients, rounds[r]!);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    report({ bench: "collector.updates", ops_per_s: Math.round(updates / seconds) });
    const q = await queryLatencies(readerClient);
    if (q.matched < ADS * 0.005 || q.matched > ADS * 0.02)
      throw new Error(`query matched ${q.matched} ads, not about 1%`);
    report({ bench: "collector.query_constraint_ms", value: Math.round(q.medianMs * 10) / 10 });
    const ca = readFileSync(pki.caCertFile);
    const metrics = await scrape(child.pid!, port, "/metrics", monitor, ca);
    if (!new RegExp(`^updraft_collector_ads\\{type="Slot"\\} ${ADS}$`, "m").test(metrics.body))
      throw new Error("scrape did not report the slot ads");
    report({
      bench: "collector.metrics_scrape_ms",
      value: tenths(metrics.medianMs),
      load1: load1(),
    });
    report({
      bench: "collector.metrics_scrape_cpu_ms",
      value: tenths(metrics.cpuMs),
      load1: load1(),
    });
    // The pool page's live view is built from the same 100,000 ads; requests spaced past the
    // collector's cache of one rendering, so each measures a rendering.
    const gap = VIEW_CACHE_MS + 100;
    const view = await scrape(child.pid!, port, "/pool/view.json", monitor, ca, gap);
    JSON.parse(view.body);
    report({ bench: "collector.pool_view_ms", value: tenths(view.medianMs), load1: load1() });
    report({ bench: "collector.pool_view_cpu_ms", value: tenths(view.cpuMs), load1: load1() });
    report({ bench: "collector.rss_mb", value: rssMb(child.pid!) });
  } finally {
    await Promise.all([...clients, readerClient].map((c) => c.close()));
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    pki.cleanup();
  }
  const h = historySampleBench();
  report({
    bench: "collector.history_sample_cpu_ms",
    value: tenths(h.cpuMs),
    series: h.series,
    core_pct_at_60s_samples: Math.round((h.cpuMs / 60_000) * 1e4) / 100,
    load1: load1(),
  });
}

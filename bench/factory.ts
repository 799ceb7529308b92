/**
 * Factory benchmark.
 *
 * factory.cycle_ms: one steady-state factory cycle (poll, outputs, holds and stale pilots, read
 * requests, decide, remove, submit, advertise) over 500 entries, 20 clients (one GlideClient ad
 * per entry and client: 10,000 requests) and 100,000 tracked pilots in a real SQLite database.
 * The adapter is an IN-MEMORY STAND-IN and the collector an in-memory list of ads, because this
 * figure measures the factory's own work, not a batch system's or the network's. Each client
 * sends one ciphertext for all entries, so RSA decryption happens in the warm-up cycle only
 * (decrypted credentials are cached by ciphertext, as in the daemon), and the GlideClient ads, the
 * same text each cycle, are read once and reused while unchanged, as in the daemon.
 *
 * factory.local_submit_per_s: pilots per second through the local adapter (submit, recorded
 * with the intent protocol), for pilots that queue behind a slot limit.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ClassAd } from "../src/classad/index.js";
import type { CollectorClient, WireAttrs } from "../src/collector/client.js";
import { createLocalAdapter } from "../src/factory/adapters/local/local-adapter.js";
import type { GridAdapter, PilotStatus } from "../src/factory/adapters/types.js";
import { factoryConfigSchema } from "../src/factory/config.js";
import { runCycle } from "../src/factory/cycle.js";
import { GlideClientReader } from "../src/factory/client-requests.js";
import { CredentialCache } from "../src/factory/credentials.js";
import { registerFactoryMetrics } from "../src/factory/metrics.js";
import { FactoryStore } from "../src/factory/store.js";
import { pilotIntent } from "../test/factory/pilot-intent.js";
import { createDaemonRegistry } from "../src/wire/metrics-route.js";
import { load1, medianCpuMs } from "./lib/render-cpu.js";
import { submitAll } from "../src/factory/submitter.js";
import { encryptCredential, pubKeyId } from "../src/security/credential-crypto.js";

const ENTRIES = 500;
const CLIENTS = 20;
const PILOTS = 100_000;
const FE_DN = "/DC=org/DC=example/CN=bench-frontend";
const silent = pino({ level: "silent" });

/** IN-MEMORY ADAPTER, benchmark only: remembers states, submits and removes instantly. */
function createInMemoryAdapter(): GridAdapter & { states: Map<string, PilotStatus> } {
  const states = new Map<string, PilotStatus>();
  let next = 0;
  return {
    gridtype: "memory",
    capabilities: { release: true, maxBatch: 1000, output: true },
    states,
    async submit(batch) {
      return batch.map((p) => {
        const handle = `m${next++}`;
        states.set(handle, { handle, state: "Idle" });
        return { intentId: p.intentId, ok: true as const, handle };
      });
    },
    async status(hs) {
      const out = new Map<string, PilotStatus>();
      for (const h of hs) out.set(h, states.get(h) ?? { handle: h, state: "Unknown" });
      return out;
    },
    async remove(hs) {
      for (const h of hs) states.set(h, { handle: h, state: "Removed" });
    },
    async release(hs) {
      for (const h of hs) states.set(h, { handle: h, state: "Idle" });
    },
    async fetchOutput() {
      return { stdout: "", stderr: "" };
    },
    async recover() {
      return [];
    },
    async close() {},
  };
}

/** IN-MEMORY COLLECTOR, benchmark only: a fixed list of GlideClient ads; advertising is counted. */
function createInMemoryCollector(ads: WireAttrs[]): CollectorClient & { advertised: number } {
  const c = {
    advertised: 0,
    async advertise(list: WireAttrs[]) {
      c.advertised += list.length;
      return [];
    },
    async invalidate() {
      return { removed: 0, refused: 0, message: "" };
    },
    // A new copy of each ad per query, stamped as the collector stamps it, as the wire gives.
    async query() {
      const heard = String(Math.floor(Date.now() / 1000));
      return ads.map((a) => ({ ...a, LastHeardFrom: heard }));
    },
    // eslint-disable-next-line require-yield
    async *watch() {
      return;
    },
  };
  return c;
}

/** Prometheus's usual scrape interval: what a scrape's cost is weighed against. */
const SCRAPE_INTERVAL_S = 15;

async function cycleBench(): Promise<{
  ms: number;
  cycleCpuMs: number;
  renderCpuMs: number;
  pageBytes: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-factory-"));
  try {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const entries = Array.from({ length: ENTRIES }, (_, i) => ({
      name: `entry${i}`,
      gridtype: "memory",
      pilot: { command: "/bin/true" },
      attrs: { GLIDEIN_Site: { value: `SITE_${i % 50}` }, GLIDEIN_CPUS: { value: 8, type: "int" } },
      limits: { per_entry: { max_glideins: 400, max_idle: 150, max_held: 50 } },
    }));
    const config = factoryConfigSchema.parse({
      name: "benchfactory",
      collector: { url: "wss://localhost:1" },
      tls: {
        cert_file: "x",
        key_file: "x",
        rsa_private_key_file: "x",
        rsa_public_key_file: "x",
      },
      work_dir: dir,
      security: { frontends: [{ name: "fe", security_classes: { main: { identity: FE_DN } } }] },
      entries,
    });
    const store = new FactoryStore(join(dir, "factory.db"));
    const adapters = new Map<string, ReturnType<typeof createInMemoryAdapter>>();
    for (const e of entries) adapters.set(e.name, createInMemoryAdapter());

    // 100,000 pilots: 10 per (entry, client), 4 idle, 5 running, 1 held.
    const states = [
      "Idle",
      "Idle",
      "Idle",
      "Idle",
      "Running",
      "Running",
      "Running",
      "Running",
      "Running",
      "Held",
    ] as const;
    const now = Date.now();
    store.transaction(() => {
      for (let e = 0; e < ENTRIES; e++) {
        const adapter = adapters.get(`entry${e}`)!;
        for (let c = 0; c < CLIENTS; c++) {
          const ids = store.recordIntents(
            Array.from({ length: PILOTS / ENTRIES / CLIENTS }, () => ({
              entry: `entry${e}`,
              client: `fe.g${c}`,
              frontend: "fe",
              securityClass: "main",
              credentialId: "bench",
              gridtype: "memory",
            })),
            now - 60_000,
          );
          store.recordSubmitted(
            ids.map((id) => ({ id, handle: `seed${id}` })),
            now - 60_000,
          );
          store.applyStates(
            ids.map((id, k) => ({
              id,
              state: states[k]!,
              holdRecoverable: true,
              holdReason: states[k] === "Held" ? "transient" : null,
            })),
            now - 60_000,
          );
          ids.forEach((id, k) => {
            const st = states[k]!;
            adapter.states.set(`seed${id}`, {
              handle: `seed${id}`,
              state: st,
              ...(st === "Held" ? { holdReason: "transient", holdRecoverable: true } : {}),
            });
          });
        }
      }
    });

    // One ciphertext per client; each asks every entry for 5 idle (1 more than it has).
    const creds = Array.from({ length: CLIENTS }, (_, c) =>
      encryptCredential(`proxy-of-g${c}`, publicPem),
    );
    const ads: WireAttrs[] = [];
    for (let e = 0; e < ENTRIES; e++) {
      for (let c = 0; c < CLIENTS; c++) {
        ads.push(
          new ClassAd()
            .setValue("MyType", "GlideClient")
            .setValue("Name", `entry${e}@benchfactory@fe.g${c}`)
            .setValue("ReqGlidein", `entry${e}@benchfactory`)
            .setValue("ClientName", `fe.g${c}`)
            .setValue("FrontendName", "fe")
            .setValue("GlideinSecurityClass", "main")
            .setValue("AuthenticatedIdentity", FE_DN)
            .setValue("ReqIdleGlideins", 5)
            .setValue("ReqMaxGlideins", 20)
            .setValue("ReqRemoveExcess", "WAIT")
            .setValue("GlideinEncParamCredential", creds[c]!)
            .setValue("GlideinParamGLIDEIN_Collector", "wss://collector.example:9618")
            .toJSON(),
        );
      }
    }
    const collector = createInMemoryCollector(ads);
    const credentialCache = new CredentialCache();
    const requests = new GlideClientReader();
    const deps = {
      config,
      store,
      adapters,
      collector,
      logger: silent,
      now: () => Date.now(),
      keys: { privatePem, publicPem, id: pubKeyId(publicPem) },
      credentialDir: join(dir, "credentials"),
      credentialCache,
      requests,
    };
    await runCycle(deps); // warm-up: decrypts each client's credential once
    // Each measured cycle again has one idle pilot to top up per (entry, client): the ones
    // submitted last cycle start running. The figure is the median of three cycles.
    const times: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (const a of adapters.values()) {
        for (const [h, s] of a.states) {
          if (s.state === "Idle" && h.startsWith("m"))
            a.states.set(h, { handle: h, state: "Running" });
        }
      }
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await runCycle(deps);
      times.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      cpus.push((cpu.user + cpu.system) / 1000);
      if (r.submitted === 0) throw new Error("benchmark cycle submitted nothing");
      if (process.env.UPDRAFT_BENCH_VERBOSE) process.stderr.write(JSON.stringify(r.timings) + "\n");
    }
    const ms = times.sort((x, y) => x - y)[1]!;
    const cycleCpuMs = cpus.sort((x, y) => x - y)[1]!;
    // The /metrics page of this factory (500 entries x 20 clients, 100,000 pilots): the
    // daemon's own work per scrape, without the TLS that wire.handshakes measures.
    const registry = createDaemonRegistry({ processMetrics: false });
    registerFactoryMetrics(registry, store);
    const page = await registry.metrics();
    // 30,000 (entry, client, state) series: the page holds the per-metric cap and an _other sum.
    if (!/^updraft_factory_pilots\{.*"_other".*\} \d+$/m.test(page))
      throw new Error("the factory's metrics page does not reach the series cap");
    const renderCpuMs = await medianCpuMs(21, () => registry.metrics());
    store.close();
    return { ms, cycleCpuMs, renderCpuMs, pageBytes: page.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function localSubmitBench(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-local-"));
  const N = 500;
  try {
    const store = new FactoryStore(join(dir, "factory.db"));
    // One slot held by a long pilot, so the measured pilots queue and nothing else is spawned.
    const adapter = createLocalAdapter(
      { slots: 1, kill_grace_s: 0 },
      { stateDir: join(dir, "adapter"), logger: silent, now: () => Date.now() },
    );
    const spec = (command: string) => (intentId: number) => ({
      intentId,
      command,
      args: ["30"],
      env: {},
      resources: { cpus: 1, memoryMb: 100, walltimeS: 60 },
    });
    const intent = pilotIntent();
    await submitAll(
      store,
      [{ adapter, req: { intent, count: 1, clusterSize: 1, spec: spec("/bin/sleep") } }],
      () => Date.now(),
    );
    const t0 = performance.now();
    const [sum] = await submitAll(
      store,
      [{ adapter, req: { intent, count: N, clusterSize: 100, spec: spec("/bin/sleep") } }],
      () => Date.now(),
    );
    const s = (performance.now() - t0) / 1000;
    if (sum!.submitted !== N) throw new Error(`submitted ${sum!.submitted} of ${N}`);
    await adapter.remove(store.all().flatMap((p) => (p.handle ? [p.handle] : [])));
    await adapter.close();
    store.close();
    return N / s;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const { ms, cycleCpuMs, renderCpuMs, pageBytes } = await cycleBench();
  process.stdout.write(JSON.stringify({ bench: "factory.cycle_ms", value: Math.round(ms) }) + "\n");
  process.stdout.write(
    JSON.stringify({
      bench: "factory.cycle_cpu_ms",
      value: Math.round(cycleCpuMs),
      load1: load1(),
    }) + "\n",
  );
  // The page's cost as a share of one core when Prometheus scrapes every 15 s, and beside the
  // CPU of the cycles run meanwhile (one per loop.cycle_s, 60 s by default: four scrapes each).
  const scrapesPerCycle = 60 / SCRAPE_INTERVAL_S;
  process.stdout.write(
    JSON.stringify({
      bench: "factory.metrics_render_cpu_ms",
      value: renderCpuMs,
      page_bytes: pageBytes,
      core_pct_at_15s_scrapes: Math.round((renderCpuMs / (SCRAPE_INTERVAL_S * 1000)) * 1e4) / 100,
      of_cycle_cpu_pct: Math.round(((renderCpuMs * scrapesPerCycle) / cycleCpuMs) * 1e3) / 10,
      load1: load1(),
    }) + "\n",
  );
  const rate = await localSubmitBench();
  process.stdout.write(
    JSON.stringify({ bench: "factory.local_submit_per_s", value: Math.round(rate) }) + "\n",
  );
}

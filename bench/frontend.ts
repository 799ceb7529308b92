/**
 * Frontend benchmark: one cycle's computation (parse the snapshot's ads, match, count, requests)
 * for 200,000 idle jobs in 5,000 autoclusters against 2,000 entries, inputs in memory. Prints
 * the median of a few runs.
 *
 * The entries span 100 sites x 2 pilot sizes x 2 memory sizes: 400 entry classes for the match
 * expression, so 5,000 x 400 = 2M evaluations instead of 10M (see src/frontend/match-matrix.ts).
 */
import { parseFrontendConfig } from "../src/frontend/config.js";
import { planCycle } from "../src/frontend/compute.js";
import { groupPolicy } from "../src/frontend/group-policy.js";
import { registerFrontendMetrics } from "../src/frontend/metrics.js";
import { createDaemonRegistry } from "../src/wire/metrics-route.js";
import { load1, medianCpuMs } from "./lib/render-cpu.js";
import type { Snapshot } from "../src/frontend/snapshot.js";

const AUTOCLUSTERS = 5_000;
const JOBS = 200_000;
const ENTRIES = 2_000;
const SITES = 100;
const RUNS = 5;

const CONFIG = `
name: bench
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
factories: [{ name: gfactory, identity: /DC=org/CN=bench factory }]
security:
  identity: /DC=org/CN=bench frontend
  credentials: [{ file: /dev/null }]
groups:
  - name: main
    match_expr: >-
      stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites) &&
      TARGET.GLIDEIN_MaxMemMBs >= MY.RequestMemory &&
      TARGET.GLIDEIN_CPUS >= MY.RequestCpus &&
      (MY.RequestGpus =?= undefined || MY.RequestGpus == 0 || TARGET.GLIDEIN_Resource_Slots =!= undefined)
    limits:
      running_glideins_per_entry: { max: 5000, curb: 4000 }
      running_glideins_total: { max: 1000000, curb: 900000 }
`;

function makeSnapshot(): Snapshot {
  const factory_ads: Record<string, string>[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const site = `T2_Site_${i % SITES}`;
    factory_ads.push({
      Name: `"entry_${i}@gfactory@factory${i % 4}"`,
      GLIDEIN_Site: `"${site}"`,
      GLIDEIN_CPUS: String([1, 8][Math.floor(i / SITES) % 2]),
      GLIDEIN_MaxMemMBs: String([2500, 20000][Math.floor(i / (2 * SITES)) % 2]),
      GLIDEIN_In_Downtime: i % 97 === 0 ? "true" : "false",
      GLIDEIN_Gatekeeper: `"ce${i}.example.org"`,
      PubKeyID: `"k${i % 4}"`,
    });
  }
  const autoclusters: Snapshot["autoclusters"] = [];
  for (let a = 0; a < AUTOCLUSTERS; a++) {
    // Every autocluster differs in what the expression reads (no two share DESIRED_Sites), so
    // grouping autoclusters saves nothing here: the figure is for the worst case.
    const sites = [a % SITES, Math.floor(a / SITES) % SITES, (a * 37 + 11) % SITES]
      .map((k) => `T2_Site_${k}`)
      .join(",");
    autoclusters.push({
      id: String(a),
      schedd: `schedd${a % 3}`,
      count: JOBS / AUTOCLUSTERS,
      owners: { [`user${a % 50}`]: JOBS / AUTOCLUSTERS },
      job: {
        DESIRED_Sites: `"${sites}"`,
        RequestCpus: String(a % 5 === 0 ? 8 : 1),
        RequestMemory: String(1000 + (a % 4) * 1000),
        Owner: `"user${a % 50}"`,
      },
    });
  }
  return { autoclusters, factory_ads, slots: [], slot_counts: [], factory_clients: [] };
}

export async function run(): Promise<void> {
  const config = parseFrontendConfig(CONFIG, "bench.yaml");
  const policy = groupPolicy(config.groups[0]!, config.match);
  const now = 1_790_000_000;
  const times: number[] = [];
  let requested = 0;
  let last: ReturnType<typeof planCycle> | undefined;
  for (let r = 0; r < RUNS; r++) {
    // A fresh snapshot object each run so ad parsing is timed too (it is cached per snapshot).
    const snapshot = makeSnapshot();
    const start = process.hrtime.bigint();
    const plan = planCycle(policy, snapshot, now);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    last = plan;
    requested = plan.entries.reduce((s, e) => s + e.request.idle, 0);
    if (plan.idleJobs !== JOBS) throw new Error(`expected ${JOBS} idle jobs, saw ${plan.idleJobs}`);
  }
  if (requested === 0) throw new Error("the benchmark's cycle requested no pilots");
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  process.stdout.write(
    `${JSON.stringify({ bench: "frontend.cycle_ms", value: Math.round(median) })}\n`,
  );
  // The /metrics page after this cycle (one group, 2,000 entries): the daemon's own work per
  // scrape, without the TLS that wire.handshakes measures.
  const registry = createDaemonRegistry({ processMetrics: false });
  registerFrontendMetrics(registry).cycleDone([last!], 0, median / 1000);
  const page = await registry.metrics();
  if (!/^updraft_frontend_requested_idle_pilots\{/m.test(page))
    throw new Error("the frontend's metrics page lacks the requests");
  process.stdout.write(
    `${JSON.stringify({
      bench: "frontend.metrics_render_cpu_ms",
      value: await medianCpuMs(21, () => registry.metrics()),
      page_bytes: page.length,
      load1: load1(),
    })}\n`,
  );
}

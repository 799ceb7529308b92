/**
 * Goodput's two halves in the history: the schedds' job CPU and the factories' pilot
 * core-seconds meet per entry as the page names it, `entry@factory`, so that two factories with
 * an entry of the same name are not mixed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type CounterMemory, poolSamples, SERIES } from "../../src/monitor/pool-samples.js";
import type { EntryRow, JobCpuRow, PoolView } from "../../src/monitor/pool-view.js";

const entry = (name: string, factory: string, pilotCoreSeconds: number): EntryRow => ({
  entry: `${name}@${factory}`,
  entryName: name,
  downtime: false,
  idle: 0,
  running: 0,
  held: 0,
  requestedIdle: 0,
  requestedMax: 0,
  limits: "",
  finished: 0,
  failed: 0,
  failedByClass: {},
  lastError: "",
  submitError: "",
  pilotCoreSeconds,
});

const view = (core: number, cpu: (n: number) => JobCpuRow[]): PoolView => ({
  at: 0,
  entries: [entry("CE", "f1", core), entry("CE", "f2", 2 * core), entry("Solo", "f1", core)],
  groups: [],
  jobs: [],
  cores: [],
  recentFailures: [],
  jobCpu: cpu(core),
  truncated: {},
});

const goodputSeries = (samples: ReturnType<typeof poolSamples>, name: string) =>
  Object.fromEntries(
    samples.filter((s) => s.name === name).map((s) => [s.labels.entry ?? "", s.value]),
  );

test("job CPU and core-seconds meet per entry@factory; two factories' CE stay apart", () => {
  const memory: CounterMemory = new Map();
  const cpu = (n: number): JobCpuRow[] => [
    { schedd: "s1", entry: "CE", factory: "f1", cpuSeconds: n / 2 },
    { schedd: "s1", entry: "CE", factory: "f2", cpuSeconds: n / 4 },
    { schedd: "s2", entry: "CE", factory: "f1", cpuSeconds: n / 10 },
    // A pilot that named no factory: Solo has one entry of its name, CE has two.
    { schedd: "s2", entry: "Solo", factory: "", cpuSeconds: n / 5 },
    { schedd: "s2", entry: "CE", factory: "", cpuSeconds: n / 100 },
  ];
  poolSamples(view(1000, cpu), memory); // learns where the counters stand
  const samples = poolSamples(view(2000, cpu), memory);
  assert.deepEqual(goodputSeries(samples, SERIES.pilotCoreTime), {
    "CE@f1": 1000,
    "CE@f2": 2000,
    "Solo@f1": 1000,
  });
  assert.deepEqual(goodputSeries(samples, SERIES.jobCpu), {
    "CE@f1": 500 + 100,
    "CE@f2": 250,
    "Solo@f1": 200,
    CE: 10,
  });
});

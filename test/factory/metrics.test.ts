import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { holdReasonShape } from "../../src/factory/held-counts.js";
import { registerFactoryMetrics } from "../../src/factory/metrics.js";
import { listeningAddresses } from "../helpers/listening.js";
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
  // Two attributes the factory drops: one naming what the system sets, one of a bad kind.
  const ad = w.glideClient({
    GlideinParamLD_PRELOAD: "/tmp/x.so",
    GlideinParamVO_Expr: "a &&",
    GlideinExprAttrs: "VO_Expr",
  });
  await w.collector.as("frontend").advertise([ad], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  try {
    await daemon.start();
    const url = new URL(daemon.metricsUrl()!);
    assert.equal(url.protocol, "https:");
    assert.equal(url.hostname, "127.0.0.1");
    // Bound to loopback, as the block's default says, not to every address (the kernel's table
    // of listening sockets: local address 127.0.0.1 is 0100007F).
    assert.deepEqual(listeningAddresses(Number(url.port)), ["0100007F"]);
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
    const dropped = (reason: string) =>
      sample(m, "updraft_factory_attrs_dropped_total", { ...who, reason });
    assert.ok((dropped("reserved_name") ?? 0) >= 1, `reserved ${dropped("reserved_name")}`);
    assert.ok((dropped("bad_value") ?? 0) >= 1, `bad value ${dropped("bad_value")}`);
    assert.equal(dropped("bad_name"), undefined, "no attribute had a bad name");
    assert.equal(m.types.get("updraft_factory_attrs_dropped_total"), "counter");
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

test("a page walks no pilot and reads no table: it shows the counts the store keeps, and the writes since the last page", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-factory-metrics-"));
  const store = new FactoryStore(join(dir, "factory.db"));
  try {
    const [id] = store.recordIntents([intent("e1", "fe.g1")], 1);
    store.count("e1", "fe.g1", "submitted", 3);
    store.count("e1", "fe.g1", "failed", 1);
    store.recordClientStatus([status("e1", "fe.g1", 5)]);
    const reads = { counters: 0, live: 0, clientStatuses: 0, prepare: 0 };
    for (const name of ["counters", "live", "clientStatuses"] as const) {
      const read = store[name].bind(store);
      (store as unknown as Record<string, () => unknown>)[name] = () => {
        reads[name]++;
        return read();
      };
    }
    const prepare = store.db.prepare.bind(store.db);
    (store.db as unknown as { prepare: unknown }).prepare = (sql: string) => {
      reads.prepare++;
      return prepare(sql);
    };
    const registry = createDaemonRegistry({ processMetrics: false });
    registerFactoryMetrics(registry, store);
    let m = parsePrometheusText(await registry.metrics());
    assert.equal(sample(m, "updraft_factory_pilots", { state: "Unsubmitted" }), 1);
    store.count("e1", "fe.g1", "submitted", 4);
    store.recordSubmitted([{ id: id!, handle: "h1" }], 2);
    store.applyStates([{ id: id!, state: "Held", holdReason: "job 7 held: quota" }], 3);
    store.recordClientStatus([status("e1", "fe.g1", 9)]);
    m = parsePrometheusText(await registry.metrics());
    assert.deepEqual(reads, { counters: 0, live: 0, clientStatuses: 0, prepare: 0 });
    assert.equal(sample(m, "updraft_factory_pilot_submissions_total", { entry: "e1" }), 7);
    assert.equal(sample(m, "updraft_factory_pilots", { state: "Held" }), 1);
    assert.equal(sample(m, "updraft_factory_pilots", { state: "Unsubmitted" }), undefined);
    assert.equal(sample(m, "updraft_factory_held_pilots", { reason: "job N held" }), 1);
    assert.equal(sample(m, "updraft_factory_requested_idle_pilots", { client: "fe.g1" }), 9);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the counts a page shows agree with a walk of the live pilots and the tables after any writes, a failed transaction and a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-factory-metrics-"));
  const file = join(dir, "factory.db");
  let store = new FactoryStore(file);
  try {
    // A small deterministic generator: the same sequence on every run.
    let seed = 17;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const reasons = ["job 1 held: quota", "job 2 held: quota", "(x) over limit", null];
    const states = ["Idle", "Running", "Held", "Finished", "Removed", "Lost"] as const;
    for (let round = 0; round < 40; round++) {
      const ids = store.recordIntents(
        Array.from({ length: 5 }, () => intent(`e${rnd(3)}`, `fe.g${rnd(4)}`)),
        round,
      );
      store.recordSubmitted(
        ids.filter(() => rnd(3) > 0).map((id) => ({ id, handle: `h${id}` })),
        round,
      );
      const live = store.live();
      store.applyStates(
        live
          .filter(() => rnd(3) === 0)
          .map((p) => ({
            id: p.id,
            state: states[rnd(states.length)]!,
            holdReason: reasons[rnd(reasons.length)],
            holdRecoverable: rnd(2) === 0,
          })),
        round,
      );
      for (const p of store.live().filter((p) => p.state === "Held" && rnd(4) === 0))
        store.recordRelease(p.id, round + 10, round);
      store.count(`e${rnd(3)}`, `fe.g${rnd(4)}`, rnd(2) ? "failed" : "failed:Network", 1);
      store.recordClientStatus([status(`e${rnd(3)}`, `fe.g${rnd(4)}`, rnd(50))]);
      if (round % 10 === 9) {
        // A transaction that fails after writing: the store reloads what SQLite kept.
        assert.throws(() =>
          store.transaction(() => {
            store.count("e0", "fe.g0", "submitted", 1000);
            store.recordIntents([intent("e0", "fe.g0")], round);
            throw new Error("boom");
          }),
        );
      }
      if (round % 20 === 19) {
        store.close();
        store = new FactoryStore(file);
      }
      await assertPageAgreesWithWalk(store);
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function intent(entry: string, client: string) {
  return {
    entry,
    client,
    frontend: "fe",
    securityClass: "s",
    credentialId: "c",
    gridtype: "local",
  };
}

function status(entry: string, client: string, reqIdle: number) {
  return { entry, client, frontend: "fe", reqIdle, reqMax: 20, limitsHit: "", at: 1 };
}

async function assertPageAgreesWithWalk(store: FactoryStore): Promise<void> {
  const registry = createDaemonRegistry({ processMetrics: false });
  registerFactoryMetrics(registry, store);
  const m = parsePrometheusText(await registry.metrics());
  const shown = (name: string, keys: string[]) =>
    new Map(
      m.samples
        .filter((s) => s.name === name)
        .map((s) => [keys.map((k) => s.labels[k]).join("|"), s.value]),
    );
  const walk = (key: (p: ReturnType<FactoryStore["live"]>[number]) => string | undefined) => {
    const counts = new Map<string, number>();
    for (const p of store.live()) {
      const k = key(p);
      if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return counts;
  };
  assert.deepEqual(
    shown("updraft_factory_pilots", ["entry", "client", "state"]),
    walk((p) => `${p.entry}|${p.client}|${p.state}`),
  );
  assert.deepEqual(
    shown("updraft_factory_held_pilots", ["entry", "reason", "recoverable"]),
    walk((p) =>
      p.state === "Held"
        ? `${p.entry}|${holdReasonShape(p.holdReason)}|${p.holdRecoverable}`
        : undefined,
    ),
  );
  const rows = store.db
    .prepare("SELECT entry, client, value FROM counters WHERE name = 'failed:Network'")
    .all() as { entry: string; client: string; value: number }[];
  assert.deepEqual(
    shown("updraft_factory_pilot_failures_total", ["entry", "client", "class"]),
    new Map([
      ...rows.map((r) => [`${r.entry}|${r.client}|Network`, r.value] as const),
      ...(
        store.db
          .prepare(
            `SELECT f.entry, f.client, f.value - coalesce(n.value, 0) AS rest FROM counters f
             LEFT JOIN counters n ON n.entry = f.entry AND n.client = f.client
               AND n.name = 'failed:Network'
             WHERE f.name = 'failed' AND f.value > coalesce(n.value, 0)`,
          )
          .all() as { entry: string; client: string; rest: number }[]
      ).map((r) => [`${r.entry}|${r.client}|Unknown`, r.rest] as const),
    ]),
  );
  const statuses = store.db.prepare("SELECT entry, client, req_idle FROM client_status").all() as {
    entry: string;
    client: string;
    req_idle: number;
  }[];
  assert.deepEqual(
    shown("updraft_factory_requested_idle_pilots", ["entry", "client"]),
    new Map(statuses.map((r) => [`${r.entry}|${r.client}`, r.req_idle])),
  );
}

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

/**
 * End to end on the demo pool: 200 jobs with mixed requirements go from `updraft submit`
 * through the frontend's requests, the factory's local pilots and the schedd's leases to
 * completion, each exactly once, each at an entry that suits it, with outputs where the submit
 * files say.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { splitWorkload } from "../../src/pool/demo.js";
import { OPEN_PAGE_HINT } from "../../src/pool/up.js";
import { plotsOf, startChromium, tableCells } from "../helpers/chromium.js";
import { httpsGet } from "../helpers/https-get.js";
import { history, jobId, startTestPool, unquote, waitFor, type TestPool } from "./pool-harness.js";

let tp: TestPool;
before(async () => {
  tp = await startTestPool();
});
after(async () => {
  await tp?.close();
});

/** Which entries may run each sample file's jobs, by the demo's policy and sites. */
const SUITS: Record<string, string[]> = {
  "hello.sub": ["Demo_US_Nebraska", "Demo_DE_DESY"],
  "sites.sub": ["Demo_US_Nebraska"], // UK_RAL is named too, but in downtime
  "bigmem.sub": ["Demo_DE_DESY"],
  "gpu.sub": ["Demo_IT_CNAF_GPU"],
};

test("200 mixed jobs complete exactly once, each at an entry that suits it", async () => {
  const clusters = new Map<number, string>();
  for (const w of splitWorkload(200)) clusters.set(await tp.submit(w.file, w.count, 0), w.file);
  const ids = [...clusters.keys()];
  const done = await waitFor(
    "200 completed jobs",
    async () => {
      const h = await history(tp, ids, ["JobStatus", "MATCH_GLIDEIN_Entry_Name", "ExitCode"]);
      return h.length >= 200 ? h : undefined;
    },
    180_000,
  );
  assert.equal(done.length, 200, "one history record per job");
  assert.equal(new Set(done.map(jobId)).size, 200, "no job completed twice");
  for (const j of done) {
    assert.equal(j.JobStatus, "4", `${jobId(j)} completed`);
    assert.equal(j.ExitCode, "0", `${jobId(j)} exit code`);
    const file = clusters.get(Number(j.ClusterId))!;
    const entry = unquote(j.MATCH_GLIDEIN_Entry_Name)!;
    assert.ok(SUITS[file]!.includes(entry), `${jobId(j)} from ${file} ran at ${entry}`);
  }
  const queue = await tp.clients.schedd.query({
    constraint: ids.map((c) => `ClusterId == ${c}`).join(" || "),
  });
  assert.equal(queue.length, 0, "nothing left in the queue");

  // Outputs come back where the submit file says: out/<name>.<cluster>.<proc>.out under Iwd.
  const [helloCluster] = [...clusters].find(([, f]) => f === "hello.sub")!;
  const r = await tp.cli(["transfer-output", String(helloCluster)]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(tp.jobsDir, "out", `hello.${helloCluster}.0.out`), "utf8");
  assert.equal(text.trim(), `job ${helloCluster}.0 done`);
});

test("the entry in downtime got no pilots, and slots say where they are", async () => {
  const entries = await tp.clients.collector.query({ type: "GlideFactory" });
  const ral = entries.find((e) => unquote(e.EntryName) === "Demo_UK_RAL");
  assert.equal(ral?.GLIDEIN_In_Downtime, "true");
  const books = await tp.clients.collector.query({
    type: "GlideFactoryClient",
    constraint: 'EntryName == "Demo_UK_RAL"',
  });
  for (const b of books) assert.equal(b.GlideinMonitorStatusTotal, "0");
  const slots = await tp.clients.collector.query({ type: "Slot" });
  for (const s of slots) {
    assert.ok(unquote(s.GLIDEIN_Site), `slot ${s.Name} advertises its site`);
    assert.match(unquote(s.GLIDECLIENT_Name) ?? "", /^demo-frontend\.(main|gpu)$/);
  }
});

test("the frontend counts its running pilots at each entry", async () => {
  const cluster = await tp.submit("hello.sub", 6, 4);
  const running = await waitFor("a GlideResource ad with running pilots", async () => {
    const ads = await tp.clients.collector.query({ type: "GlideResource" });
    const busy = ads.filter(
      (a) => /main"$/.test(a.Name ?? "") && Number(a.GlideClientMonitorGlideinsRunning) > 0,
    );
    return busy.length > 0 ? busy : undefined;
  });
  // hello.sub's jobs run only at the CPU entries, so only those have busy pilots.
  for (const a of running) {
    assert.match(a.Name ?? "", /^"Demo_(US_Nebraska|DE_DESY)@demo-factory@demo-frontend\.main"$/);
  }
  await waitFor("the sleepers to finish", async () =>
    (await history(tp, [cluster])).length === 6 ? true : undefined,
  );
});

test("endpoints.json names each daemon's /metrics and the page; the monitor credential opens all", async () => {
  const endpoints = JSON.parse(readFileSync(join(tp.pool.stateDir, "endpoints.json"), "utf8"));
  // env.sh names the page and says how to open it.
  const env = readFileSync(join(tp.pool.stateDir, "env.sh"), "utf8");
  assert.ok(env.includes(`export UPDRAFT_WEB='${endpoints.web}'`), env);
  assert.ok(env.includes(OPEN_PAGE_HINT), env);
  assert.deepEqual(Object.keys(endpoints.metrics).sort(), [
    "collector",
    "factory",
    "frontend",
    "schedd",
  ]);
  const pki = tp.pool.pki!;
  const cred = {
    certPem: readFileSync(pki.monitor.certFile, "utf8"),
    keyPem: readFileSync(pki.monitor.keyFile, "utf8"),
  };
  const ca = readFileSync(join(pki.dir, "ca.pem"));
  for (const [daemon, url] of Object.entries(endpoints.metrics as Record<string, string>)) {
    const u = new URL(url);
    // The factory and frontend open their listeners once started; `up` waits for neither.
    const r = await waitFor(`${daemon} /metrics`, () =>
      httpsGet({ port: Number(u.port), path: u.pathname, ca, cred }).catch(() => undefined),
    );
    assert.equal(r.status, 200, `${daemon} ${url}`);
    assert.match(r.body, /^updraft_process_cpu_seconds_total /m, daemon);
    // Without the credential, nothing.
    assert.equal((await httpsGet({ port: Number(u.port), path: u.pathname, ca })).status, 401);
  }
  // Goodput's halves: the jobs' CPU per entry at the schedd, the pilots' core-seconds per entry
  // at the factory, both in the ads the page reads.
  const counted = async (daemon: string, metric: string) => {
    const u = new URL((endpoints.metrics as Record<string, string>)[daemon]!);
    const body = (await httpsGet({ port: Number(u.port), path: u.pathname, ca, cred })).body;
    // The schedd names the pilot's factory too, so two factories' entries of one name stay apart.
    const labels =
      daemon === "schedd"
        ? `entry="Demo_[A-Za-z_]+",factory="demo-factory"`
        : `entry="Demo_[A-Za-z_]+"`;
    const m = new RegExp(`^${metric}\\{${labels}\\} ([0-9.e+-]+)$`, "m").exec(body);
    return m ? Number(m[1]) : undefined;
  };
  // The demo's jobs sleep: their CPU may round to 0, which still names the entry.
  await waitFor("job CPU counted per entry", () =>
    counted("schedd", "updraft_schedd_job_cpu_seconds_total"),
  );
  await waitFor("pilot core-seconds counted per entry", async () => {
    const n = await counted("factory", "updraft_factory_pilot_core_seconds_total");
    return n !== undefined && n > 0 ? n : undefined;
  });
  const web = new URL(endpoints.web);
  const view = await waitFor("the page's view to carry both", async () => {
    const r = await httpsGet({ port: Number(web.port), path: "/pool/view.json", ca, cred });
    const v = JSON.parse(r.body) as {
      jobCpu: { entry: string; factory: string; cpuSeconds: number }[];
      entries: { entry: string; pilotCoreSeconds: number }[];
    };
    return v.jobCpu.length > 0 && v.entries.some((e) => e.pilotCoreSeconds > 0) ? v : undefined;
  });
  assert.ok(
    view.jobCpu.every((j) => j.entry.startsWith("Demo_") && j.factory === "demo-factory"),
    JSON.stringify(view.jobCpu),
  );
  // The demo's page in a real browser: its entries (one in downtime) and a drawn plot.
  const browser = await startChromium({ origin: new URL(endpoints.web).origin, ...cred });
  try {
    const { page, problems } = await browser.open(endpoints.web);
    await page.waitForSelector("body[data-plotted=day]", { timeout: 30_000 });
    const entries = await tableCells(page, "entries");
    const names = entries.map((r) => r[0]);
    for (const e of ["Demo_US_Nebraska", "Demo_DE_DESY", "Demo_IT_CNAF_GPU"])
      assert.ok(names.includes(`${e}@demo-factory`), `${e} in ${names.join(", ")}`);
    assert.equal(entries.find((r) => r[0] === "Demo_UK_RAL@demo-factory")?.[7], "yes");
    const plots = await plotsOf(page);
    assert.ok(plots.find((p) => p.id === "plot-pilots")?.canvas, JSON.stringify(plots));
    assert.ok(
      plots.find((p) => p.id === "plot-goodput"),
      JSON.stringify(plots),
    );
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});

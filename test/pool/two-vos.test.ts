/**
 * config/demo-two-vos under `up`: one factory, two VOs with their own frontends, schedds, pilot
 * credentials and user pools, and a collector pair where the factory and the frontends meet
 * (alpha's user pool too). A job of each VO runs on that VO's pilots; then one collector of the
 * pair hangs and is then killed, and alpha's jobs still get pilots and run, with nothing counted
 * twice in the frontend's or the factory's decisions.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCollectorClient, type CollectorClient } from "../../src/collector/client.js";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { distinctFreePorts, portEnvName } from "../../src/pool/ports.js";
import { packageRoot, up, type Pool } from "../../src/pool/up.js";
import { createRpcClient, type RpcClient } from "../../src/wire/index.js";
import { unquote, waitFor } from "./pool-harness.js";

const CONFIG = join(packageRoot(), "config", "demo-two-vos");
const HELLO = join(packageRoot(), "examples", "demo", "hello.sub");

let stateDir: string;
let pool: Pool;
const rpcs: RpcClient[] = [];
let collectorA: CollectorClient;
let collectorB: CollectorClient;
let collectorBeta: CollectorClient;
let scheddAlpha: ScheddClient;
let scheddBeta: ScheddClient;
let scheddBetaUrl: string;

function connect(url: string): RpcClient {
  const rpc = createRpcClient({
    url,
    credentialFile: pool.userEnv.X509_USER_PROXY,
    caDir: pool.userEnv.X509_CERT_DIR!,
  });
  rpcs.push(rpc);
  return rpc;
}

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "updraft-two-vos-"));
  // Kernel-picked ports, none of the defaults: another test's pool must not race this one.
  const [collector, schedd, factoryMetrics, frontendMetrics] = await distinctFreePorts(4);
  writeFileSync(
    join(stateDir, "ports.json"),
    JSON.stringify({ collector, schedd, factoryMetrics, frontendMetrics }),
  );
  pool = await up({ configDir: CONFIG, stateDir });
  mkdirSync(join(stateDir, "jobs", "out"), { recursive: true });
  const port = (name: string) => pool.userEnv[portEnvName(name)];
  scheddBetaUrl = `wss://localhost:${port("schedd-beta")}/`;
  collectorA = createCollectorClient(connect(pool.collectorUrl));
  collectorB = createCollectorClient(connect(`wss://localhost:${port("collector-b")}/`));
  collectorBeta = createCollectorClient(connect(`wss://localhost:${port("collector-beta")}/`));
  scheddAlpha = scheddClient(connect(pool.scheddUrl));
  scheddBeta = scheddClient(connect(scheddBetaUrl));
});

after(async () => {
  await Promise.all(rpcs.map((r) => r.close()));
  await pool?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** `updraft submit hello.sub` as alice to the given schedd; the cluster id. */
function submit(schedd: string, count: number, sleepS: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [pool.cli, "submit", HELLO], {
      cwd: join(stateDir, "jobs"),
      env: {
        ...process.env,
        ...pool.userEnv,
        UPDRAFT_SCHEDD: schedd,
        UPDRAFT_DEMO_COUNT: String(count),
        UPDRAFT_DEMO_SLEEP: String(sleepS),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => {
      const m = /submitted to cluster (\d+)/.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`submit to ${schedd} failed (exit ${code}): ${out}`));
    });
  });
}

async function done(schedd: ScheddClient, cluster: number): Promise<Record<string, string>[]> {
  return schedd.query({ constraint: `ClusterId == ${cluster}`, history: true });
}

/** The group's pilots: their partitionable slots (a running job's dynamic slot is no pilot). */
const slotsOf = async (c: CollectorClient, client: string) =>
  (await c.query({ type: "Slot" })).filter(
    (s) => unquote(s.GLIDECLIENT_Name) === client && s.DynamicSlot !== "true",
  );

test("a job of each VO runs on that VO's pilots, each VO's pilots in its own pool", async () => {
  const alpha = await submit(pool.scheddUrl, 1, 15);
  const beta = await submit(scheddBetaUrl, 1, 15);
  // While the jobs run, each VO's pilots are in its own pool and only there; alpha's are held
  // by both collectors of the pair.
  const alphaSlot = await waitFor(
    "an alpha pilot at both collectors of the pair",
    async () => {
      const [a, b] = await Promise.all([
        slotsOf(collectorA, "alpha-frontend.main"),
        slotsOf(collectorB, "alpha-frontend.main"),
      ]);
      const both = a.filter((s) => b.some((t) => t.Name === s.Name));
      return both[0];
    },
    180_000,
  );
  assert.ok(alphaSlot.Name);
  await waitFor(
    "a beta pilot in beta's pool",
    async () =>
      (await slotsOf(collectorBeta, "beta-frontend.main")).length > 0 ? true : undefined,
    180_000,
  );
  assert.deepEqual(await slotsOf(collectorA, "beta-frontend.main"), []);
  assert.deepEqual(await slotsOf(collectorBeta, "alpha-frontend.main"), []);

  // Both collectors hold alpha's pilot, and the frontend reads its pilots from one of them: with
  // alpha's one job running, it counts one busy pilot, not two.
  const resource = await waitFor(
    "alpha's frontend counting its busy pilot",
    async () => {
      const ads = await collectorB.query({ type: "GlideResource" });
      return ads.find(
        (a) =>
          unquote(a.GlideClientName) === "alpha-frontend.main" &&
          Number(a.GlideClientMonitorGlideinsRunning) > 0,
      );
    },
    120_000,
  );
  assert.equal(resource.GlideClientMonitorGlideinsRunning, "1");

  for (const [schedd, cluster] of [
    [scheddAlpha, alpha],
    [scheddBeta, beta],
  ] as const) {
    const jobs = await waitFor(
      `cluster ${cluster} to finish`,
      async () => {
        const h = await done(schedd, cluster);
        return h.length === 1 ? h : undefined;
      },
      180_000,
    );
    assert.equal(jobs[0]!.ExitCode, "0");
  }
});

/** The request and the factory's record of it, for alpha, at B. */
async function alphaDecisions() {
  const [client, factoryClient] = await Promise.all(
    (["GlideClient", "GlideFactoryClient"] as const).map(async (type) =>
      (await collectorB.query({ type })).filter((a) => /alpha-frontend\.main/.test(a.Name ?? "")),
    ),
  );
  return { client, factoryClient };
}

/**
 * Until `until` resolves, checks every 2 s that no request is taken twice: one request per entry,
 * and the factory's record of it within the group's idle cap (2) and the entry's pilots (4). The
 * frontend's count of pilots is not bounded here: a pilot the factory removed keeps its Slot ad
 * until the ad's lifetime ends, as in HTCondor (the first test checks that a pilot held by both
 * collectors is counted once).
 */
async function neverTwice<T>(until: Promise<T>): Promise<T> {
  let done = false;
  const checking = (async () => {
    let samples = 0;
    while (!done) {
      const d = await alphaDecisions().catch(() => undefined);
      if (d) {
        samples++;
        assert.ok(d.client.length <= 1 && d.factoryClient.length <= 1, JSON.stringify(d));
        for (const f of d.factoryClient) {
          assert.ok(Number(f.GlideinMonitorRequestedIdle ?? 0) <= 2, JSON.stringify(f));
          const pilots =
            Number(f.GlideinMonitorStatusIdle ?? 0) + Number(f.GlideinMonitorStatusRunning ?? 0);
          assert.ok(pilots <= 4, `the entry holds at most 4 pilots: ${JSON.stringify(f)}`);
        }
      }
      await new Promise((res) => setTimeout(res, 2_000));
    }
    return samples;
  })();
  checking.catch(() => {}); // its failure is thrown where it is awaited, below
  try {
    return await until;
  } finally {
    done = true;
    assert.ok((await checking) > 0, "the decisions were read at the surviving collector");
  }
}

test("with one collector of the pair hung and then killed, alpha's jobs still get new pilots and run", async () => {
  // The first test's pilots leave once idle (max_idle_s 20): the jobs below need new ones.
  await waitFor(
    "alpha's earlier pilots to leave",
    async () =>
      (await slotsOf(collectorB, "alpha-frontend.main")).length === 0 ? true : undefined,
    180_000,
  );
  // Hung first: its process stopped, its connections open, nothing answering.
  const pid = pool.supervisor.pid("collector")!;
  process.kill(pid, "SIGSTOP");
  const cluster = await submit(pool.scheddUrl, 4, 10);
  // More jobs than pilots: the frontend asks through the surviving collector, the factory reads
  // the request there, and the new pilot's slot reaches it though the other collector is hung.
  await neverTwice(
    waitFor(
      "a new alpha pilot at the surviving collector",
      async () =>
        (await slotsOf(collectorB, "alpha-frontend.main")).length > 0 ? true : undefined,
      240_000,
    ),
  );
  const jobs = await neverTwice(
    waitFor(
      "alpha's jobs to finish with collector-a hung",
      async () => {
        const h = await done(scheddAlpha, cluster);
        return h.length === 4 ? h : undefined;
      },
      240_000,
    ),
  );
  for (const j of jobs) assert.equal(j.ExitCode, "0");

  // Then killed outright (SIGKILL reaches a stopped process; it runs no shutdown of its own) and
  // not restarted: the pool goes on at collector-b alone.
  await pool.supervisor.stop(0, ["collector"]);
  const more = await submit(pool.scheddUrl, 2, 2);
  const later = await neverTwice(
    waitFor(
      "alpha's jobs to finish with collector-a killed",
      async () => {
        const h = await done(scheddAlpha, more);
        return h.length === 2 ? h : undefined;
      },
      240_000,
    ),
  );
  for (const j of later) assert.equal(j.ExitCode, "0");
  const { client } = await alphaDecisions();
  assert.ok(client.length <= 1, "each request once");
});

/**
 * A real collector holding a small pool's ads (two entries, one in downtime, one with its pilot
 * core-seconds and last failed pilots; a client with failures; a frontend group; a schedd with
 * two owners and its job CPU per entry; busy slots), for the pool page's tests.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createPool, type Pool, type Running, startCollector } from "../collector/harness.js";

export const MONITOR_DN = "/DC=org/DC=example/CN=Prometheus";

export type PoolFixture = {
  pool: Pool;
  c: Running;
  ca: Buffer;
  monitor: { certPem: string; keyPem: string };
  historyPath: string;
  port(): number;
  /** Re-advertise the client ad with these failure counts. */
  setFailures(byClass: string, failed: number): Promise<void>;
  /** Re-advertise CE_A's job CPU (the schedd's) and pilot core-seconds (the factory's). */
  setGoodput(jobCpuS: number, pilotCoreS: number): Promise<void>;
  stop(): Promise<void>;
};

const q = (s: string) => JSON.stringify(s);

/** A failed pilot's summary as the factory writes it, longer than other texts and with markup. */
export const LAST_FAILURE =
  "pilot 7 failed (exit 11, validation, WN_Resource): only 2 GB of scratch disk in /scratch, " +
  'the entry asks for 20 GB; stderr: df: <b>2.0G</b> free <script>document.title="pwned"</script> ' +
  "| validate: scratch check failed after 3 tries | exit 11";

export const HOSTILE_ENTRY = `<img src=x onerror="document.title='pwned'">`;

/** CE_A's two last failed pilots, as its GlideFactory ad lists them (newest first). */
export const RECENT_FAILURES = [
  {
    at: Date.parse("2026-12-07T04:10:00Z"),
    client: "vo.main",
    failureClass: "WN_Resource",
    error: LAST_FAILURE,
  },
  {
    at: Date.parse("2026-12-07T03:55:00Z"),
    client: "vo.other",
    failureClass: "Network",
    error: "pilot 5 failed (exit 1, download, Network): <i>timeout</i>",
  },
];
const recentFailuresList = `{ ${RECENT_FAILURES.map(
  (f) =>
    `[ Time = ${f.at / 1000}; Client = ${q(f.client)}; FailureClass = ${q(f.failureClass)}; ` +
    `Message = ${q(f.error)} ]`,
).join(", ")} }`;

const life = { ClassAdLifetime: "864000" };
const entry = (
  name: string,
  idle: number,
  running: number,
  held: number,
  down: boolean,
  extra: Record<string, string> = {},
) => ({
  MyType: q("GlideFactory"),
  Name: q(`${name}@factory1`),
  EntryName: q(name),
  FactoryName: q("factory1"),
  GLIDEIN_In_Downtime: String(down),
  GlideinMonitorTotalStatusIdle: String(idle),
  GlideinMonitorTotalStatusRunning: String(running),
  GlideinMonitorTotalStatusHeld: String(held),
  ...extra,
  ...life,
});
const entryA = (pilotCoreS: number) =>
  entry("CE_A", 2, 5, 1, false, {
    GlideinMonitorPilotCoreSeconds: String(pilotCoreS),
    GlideinMonitorRecentFailures: recentFailuresList,
  });
const scheddAd = (jobCpuS: number) => ({
  MyType: q("Scheduler"),
  Name: q("schedd@submit.example.org"),
  TotalIdleJobs: "12",
  TotalRunningJobs: "3",
  TotalHeldJobs: "1",
  Submitters:
    '{ [ Name = "alice"; IdleJobs = 10; RunningJobs = 2; HeldJobs = 1 ], ' +
    '[ Name = "bob"; IdleJobs = 2; RunningJobs = 1; HeldJobs = 0 ] }',
  JobCpuByEntry: `{ [ Name = "CE_A"; Factory = "factory1"; JobCpuSeconds = ${jobCpuS} ] }`,
  ...life,
});

function clientAd(byClass: string, failed: number): Record<string, string> {
  return {
    MyType: q("GlideFactoryClient"),
    Name: q("CE_A@factory1@vo.main"),
    ReqGlidein: q("CE_A@factory1"),
    ReqClientName: q("vo.main"),
    EntryName: q("CE_A"),
    FactoryName: q("factory1"),
    GlideinMonitorStatusIdle: "2",
    GlideinMonitorStatusRunning: "5",
    GlideinMonitorStatusHeld: "1",
    GlideinMonitorRequestedIdle: "4",
    GlideinMonitorRequestedMaxGlideins: "20",
    GlideinMonitorLimitsHit: q("entry.max_idle"),
    GlideinMonitorFailedPilots: String(failed),
    GlideinMonitorFinishedPilots: "10",
    GlideinMonitorFailedByClass: q(byClass),
    GlideinMonitorLastFailure: q(LAST_FAILURE),
    ClassAdLifetime: "864000",
  };
}

export async function startPoolFixture(): Promise<PoolFixture> {
  const pool = createPool();
  const monitor = pool.pki.issueUser(MONITOR_DN);
  const historyPath = join(pool.pki.dir, "history", "collector-history.sqlite");
  const config = pool.config({ history: { path: historyPath } });
  config.authorization.rules.push({ identity: MONITOR_DN, roles: ["monitor"] });
  const c = await startCollector(pool, config);
  const accepted = (outcomes: { ok: boolean; message: string }[]) => {
    for (const o of outcomes) if (!o.ok) throw new Error(`ad refused: ${o.message}`);
  };
  accepted(
    await c
      .as("factory")
      .advertise([
        entryA(7200),
        entry("CE_B", 0, 0, 0, true),
        entry(HOSTILE_ENTRY, 0, 0, 0, false),
      ]),
  );
  accepted(await c.as("factory").advertise([clientAd("Network:1,WN_Resource:2", 3)]));
  const frontendAds = [
    {
      MyType: q("GlideResource"),
      Name: q("CE_A@factory1@vo.main"),
      FrontendName: q("vo"),
      GroupName: q("main"),
      GlideFactoryEntry: q("CE_A@factory1"),
      GlideClientMonitorJobsIdleMatching: "37",
      GlideClientMonitorGlideinsRequestIdle: "4",
      GlideClientMonitorGlideinsRequestMaxRun: "20",
      GlideClientLimitsTriggered: q("idle_glideins_per_entry.max"),
      ...life,
    },
  ];
  accepted(await c.as("frontend").advertise(frontendAds));
  accepted(await c.as("admin").advertise([scheddAd(1000)]));
  const slot = (i: number, busy: number) => ({
    MyType: q("Slot"),
    Name: q(`slot1@glidein_${i}@wn${i}.example.org`),
    GLIDEIN_Entry_Name: q("CE_A"),
    GLIDEIN_Factory: q("factory1"),
    TotalCpus: "4",
    Cpus: String(4 - busy),
    NumDynamicSlots: String(busy),
    Start: "true",
    ...life,
  });
  accepted(await c.as("pilot").advertise([slot(1, 4), slot(2, 2)]));
  return {
    pool,
    c,
    ca: readFileSync(pool.pki.caCertFile),
    monitor,
    historyPath,
    port: () => c.daemon.server.address().port,
    setFailures: async (byClass, failed) => {
      accepted(await c.as("factory").advertise([clientAd(byClass, failed)]));
    },
    setGoodput: async (jobCpuS, pilotCoreS) => {
      accepted(await c.as("admin").advertise([scheddAd(jobCpuS)]));
      accepted(await c.as("factory").advertise([entryA(pilotCoreS)]));
    },
    async stop() {
      await c.stop();
      pool.cleanup();
    },
  };
}

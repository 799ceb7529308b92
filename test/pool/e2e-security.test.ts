/**
 * Refusals on the demo pool with the pilot proxy, each through the real front door: a user removing another user's
 * job, a certificate from a CA the pool does not trust advertising to the collector, and pilots
 * whose credential cannot last their lifetime. Each is refused with a message that says why,
 * and nothing else changes: the job, the collector's ads, the queue.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { writePrivateFile } from "../../src/security/ca-dir.js";
import { createProxy } from "../../src/security/proxy.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import {
  history,
  jobId,
  proxyDemoConfig,
  startTestPool,
  unquote,
  waitFor,
  type TestPool,
} from "./pool-harness.js";
import { explained as explainedIn } from "./pool-inspect.js";

const GUARD_MS = 120_000;
let tp: TestPool;
let foreign: TestPki;
// The demo with the pilot proxy: the tests below edit the proxy the frontend hands out (the
// token side is in e2e-pilot-tokens.test.ts).
const configDir = proxyDemoConfig();

before(async () => {
  tp = await startTestPool({ configDir });
  foreign = createTestPki();
});
after(async () => {
  await tp?.close();
  foreign?.cleanup();
  rmSync(configDir, { recursive: true, force: true });
});

const bob = () => ({ X509_USER_PROXY: tp.pool.pki!.userProxy("bob") });

/** A job that stays put: queued on hold, so no pilot takes it while we look. */
async function submitHeld(): Promise<number> {
  const file = join(tp.jobsDir, "held.sub");
  writeFileSync(
    file,
    ["executable = /bin/true", "hold = true", "request_memory = 64 MB", "queue 1", ""].join("\n"),
  );
  const r = await tp.cli(["submit", file]);
  const m = /submitted to cluster (\d+)/.exec(r.stdout);
  assert.ok(r.code === 0 && m, `submit held.sub: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

const jobAd = async (cluster: number) => {
  const ads = await tp.clients.schedd.query({ constraint: `ClusterId == ${cluster}` });
  assert.equal(ads.length, 1, `job ${cluster}.0 is in the queue`);
  return ads[0]!;
};

test("bob cannot remove alice's job: refused, saying whose it is, and the job is unchanged", async () => {
  const cluster = await submitHeld();
  const before = await jobAd(cluster);
  assert.equal(unquote(before.Owner), "alice");
  assert.equal(before.JobStatus, "5", "queued on hold");

  const byId = await tp.cli(["rm", `${cluster}.0`], bob());
  assert.equal(byId.code, 1, `bob's rm by id fails: ${byId.stdout}${byId.stderr}`);
  assert.match(byId.stderr, new RegExp(`Job ${cluster}\\.0: permission denied: owned by alice`));
  assert.doesNotMatch(byId.stdout, /marked for removal/);

  // Naming alice's jobs by owner or constraint does not reach them either.
  const byConstraint = await tp.cli(["rm", "--constraint", `ClusterId == ${cluster}`], bob());
  assert.notEqual(byConstraint.code, 0, "bob's rm by constraint fails");
  assert.doesNotMatch(byConstraint.stdout, /marked for removal/);
  const hold = await tp.cli(["release", `${cluster}.0`], bob());
  assert.equal(hold.code, 1, "bob cannot release it either");

  assert.deepEqual(await jobAd(cluster), before, "the job ad is exactly as it was");

  // The refusal was about ownership: alice removes her own job.
  const own = await tp.cli(["rm", `${cluster}.0`]);
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, new RegExp(`Job ${cluster}\\.0 marked for removal`));
  const [gone] = await history(tp, [cluster], ["JobStatus"]);
  assert.equal(gone?.JobStatus, "3", "removed by its owner");
});

test("a certificate from an unknown CA cannot advertise to the collector", async () => {
  // An impostor: the factory's own DN, from a CA the pool does not trust.
  const impostor = foreign.issueUser("/DC=org/DC=example/OU=Services/CN=factory");
  const proxy = foreign.proxyOf(impostor);
  const adFile = join(tp.jobsDir, "impostor.ad");
  writeFileSync(
    adFile,
    [
      'MyType = "GlideFactory"',
      'Name = "Impostor_Entry@demo-factory"',
      'EntryName = "Impostor_Entry"',
      'FactoryName = "demo-factory"',
      'GLIDEIN_Site = "Nowhere"',
      "",
    ].join("\n"),
  );
  const before = await tp.clients.collector.query({ type: "GlideFactory" });

  const r = await tp.cli(["advertise", "--type", "GlideFactory", adFile], {
    X509_USER_PROXY: proxy.file,
  });
  assert.notEqual(r.code, 0, `the impostor's advertise fails: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /refused this credential/);
  // The impostor learns only that it was refused; the collector's log says why.
  assert.doesNotMatch(r.stderr, /Example Test CA/);
  const logged = await waitFor(
    "the refusal's reason in the collector's log",
    () => {
      const log = readFileSync(join(tp.pool.stateDir, "log", "collector.log"), "utf8");
      return /issued by \/DC=org\/DC=example\/CN=Example Test CA, which is not a trusted CA/.test(
        log,
      )
        ? true
        : undefined;
    },
    GUARD_MS,
  );
  assert.ok(logged);

  // The same ad from a user the pool does know, but who may not write factory ads.
  const asBob = await tp.cli(["advertise", "--type", "GlideFactory", adFile], bob());
  assert.notEqual(asBob.code, 0, `bob's advertise fails: ${asBob.stdout}${asBob.stderr}`);
  assert.match(asBob.stderr, /permission|not allowed|role/i);

  const now = await tp.clients.collector.query({ type: "GlideFactory" });
  assert.ok(!now.some((a) => unquote(a.Name) === "Impostor_Entry@demo-factory"), "no impostor ad");
  assert.deepEqual(
    now.map((a) => unquote(a.Name)).sort(),
    before.map((a) => unquote(a.Name)).sort(),
    "the factory's ads are the same ones",
  );
});

test("a pilot with an expired credential fails validation as VO_Proxy and claims nothing", async () => {
  const pki = tp.pool.pki!;
  const pilotDir = join(pki.dir, "pilot");
  const cert = readFileSync(join(pilotDir, "cert.pem"), "utf8");
  const key = readFileSync(join(pilotDir, "key.pem"), "utf8");
  const expired = join(tp.jobsDir, "expired-proxy.pem");
  writePrivateFile(
    expired,
    createProxy({
      certChainPem: cert,
      keyPem: key,
      hours: 1,
      now: new Date(Date.now() - 3 * 3600_000),
    }),
  );
  mkdirSync(join(tp.jobsDir, "expired-pilot"));
  const r = await tp.cli([
    "pilot",
    "run",
    "--work-dir",
    join(tp.jobsDir, "expired-pilot"),
    "--collector",
    tp.pool.collectorUrl,
    "--schedd",
    tp.pool.scheddUrl,
    "--credential",
    expired,
    "--trust-dir",
    pki.trustDir,
    "--pilot-id",
    "expired-pilot",
    "--max-walltime",
    "600",
  ]);
  assert.equal(r.code, 15, `exit code of class VO_Proxy: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /VO_Proxy/);
  assert.ok(r.stdout.includes(`credential ${expired} has `), `the message names the credential`);
  assert.match(r.stdout, /Jobs: 0/);
  assert.doesNotMatch(
    r.stdout + r.stderr,
    /BEGIN (RSA )?PRIVATE KEY/,
    "no credential in the output",
  );
  // It stopped before it connected: no slot of it at the collector.
  const slots = await tp.clients.collector.query({ type: "Slot", projection: ["Name"] });
  assert.ok(!slots.some((s) => unquote(s.Name)?.includes("@expired-pilot@")), "no slot advertised");
});

test("pilots whose credential is too short for their walltime fail as VO_Proxy; jobs wait, then run once", async () => {
  const pki = tp.pool.pki!;
  const pilotDir = join(pki.dir, "pilot");
  const good = join(tp.jobsDir, "good-pilot-proxy.pem");
  copyFileSync(pki.pilotProxy, good);
  // The frontend reads its credential every cycle: hand it one of 12 minutes for pilots of an
  // hour's walltime (config/demo/frontend.yaml).
  writePrivateFile(
    pki.pilotProxy,
    createProxy({
      certChainPem: readFileSync(join(pilotDir, "cert.pem"), "utf8"),
      keyPem: readFileSync(join(pilotDir, "key.pem"), "utf8"),
      hours: 0.2,
    }),
  );
  let restored = false;
  const restore = () => {
    if (restored) return;
    writePrivateFile(pki.pilotProxy, readFileSync(good, "utf8"));
    restored = true;
  };
  try {
    const cluster = await tp.submit("hello.sub", 3, 0);
    const failures = await explained(
      waitFor(
        "pilots failing as VO_Proxy",
        () => {
          const n = factoryCounter("failed:VO_Proxy");
          return n > 0 ? n : undefined;
        },
        GUARD_MS,
      ),
    );
    assert.ok(failures > 0);
    assert.equal(factoryCounter("jobs_run"), 0, "the failed pilots ran no job");
    for (const j of await tp.clients.schedd.query({
      constraint: `ClusterId == ${cluster}`,
      projection: ["ClusterId", "ProcId", "JobStatus", "NumJobStarts"],
    })) {
      assert.equal(j.JobStatus, "1", `${jobId(j)} still idle`);
      assert.equal(j.NumJobStarts, "0", `${jobId(j)} never started`);
    }
    const book = await waitFor("the factory's advertised failed pilots", async () => {
      const ads = await tp.clients.collector.query({ type: "GlideFactoryClient" });
      return ads.find((a) => Number(a.GlideinMonitorFailedPilots ?? 0) > 0);
    });
    assert.ok(book, "a GlideFactoryClient ad counts the failed pilots");

    // A renewed credential: the next pilots validate and the waiting jobs run, each once.
    restore();
    const done = await explained(
      waitFor(
        "the 3 jobs to complete",
        async () => {
          const h = await history(
            tp,
            [cluster],
            ["JobStatus", "NumJobStarts", "NumJobCompletions"],
          );
          return h.length >= 3 ? h : undefined;
        },
        GUARD_MS,
      ),
    );
    for (const j of done) {
      assert.equal(j.JobStatus, "4", `${jobId(j)} completed`);
      assert.equal(j.NumJobStarts, "1", `${jobId(j)} started once, by a valid pilot`);
      assert.equal(j.NumJobCompletions, "1");
    }
  } finally {
    restore();
  }
});

test("demo users' tokens work at the demo pool without a certificate; a changed token does not", async () => {
  const token = join(tp.pool.stateDir, "pki", "users", "alice", "token");
  assert.equal(statSync(token).mode & 0o777, 0o600, "the token file is 0600");
  const held = join(tp.jobsDir, "held-token.sub");
  writeFileSync(held, ["executable = /bin/true", "hold = true", "queue 1", ""].join("\n"));
  // No certificate anywhere: the token is the only credential.
  const noCert = { X509_USER_PROXY: join(tp.jobsDir, "no-such-proxy") };
  const r = await tp.cli(["submit", "--token", token, held], noCert);
  const m = /submitted to cluster (\d+)/.exec(r.stdout);
  assert.ok(r.code === 0 && m, `submit with a token: ${r.stdout}${r.stderr}`);
  const ad = await jobAd(Number(m[1]));
  assert.equal(ad.Owner, '"alice"', "Owner comes from the token's sub");
  assert.equal(ad.AuthenticatedIdentity, '"https://localhost/updraft-demo/users#alice"');

  const text = readFileSync(token, "utf8").trim();
  const [h, p, sig] = text.split(".");
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
  const forged = join(tp.jobsDir, "forged-token");
  writePrivateFile(
    forged,
    `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: "bob" })).toString("base64url")}.${sig}\n`,
  );
  const f = await tp.cli(["q", "--token", forged], noCert);
  assert.notEqual(f.code, 0);
  // A token refusal names the check (RFC 6750's challenge), never the token.
  assert.match(
    f.stdout + f.stderr,
    /refused the bearer token in \S+forged-token \(--token\): the bearer token was not accepted \(check: signature\)/,
  );
  assert.ok(!(f.stdout + f.stderr).includes(sig!), "the token is not echoed");
});

/** A wait that, when it times out, says what the factory, frontend and schedd were doing. */
const explained = <T>(wait: Promise<T>) => explainedIn(tp, wait);

/** A factory counter summed over clients, from its database (read-only). */
function factoryCounter(name: string): number {
  const db = new Database(join(tp.pool.stateDir, "factory", "factory.db"), { readonly: true });
  try {
    const row = db
      .prepare("SELECT COALESCE(SUM(value), 0) AS n FROM counters WHERE name = ?")
      .get(name) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

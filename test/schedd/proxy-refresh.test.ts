/**
 * A queued job's proxy runs out and is renewed, at a real schedd with a real pilot: a running job
 * finds the proxy `updraft refresh-proxy` sent in its sandbox while it runs (the pilot fetches it
 * at a heartbeat); idle jobs whose proxy expired are held with HTCondor's CorruptedCredential
 * code (4) and a reason saying what to do, and run again once refreshed and released. A proxy
 * for another subject, from an unknown CA, already expired, or sent by another user is refused.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { ManualClock, systemClock } from "../../src/common/clock.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { scheddSource } from "../../src/pilot/schedd-source.js";
import { parseCertificate, pemCertificates } from "../../src/security/cert-info.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { runCli, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let clock: ManualClock;
let work: string;
let rogue: TestPki;
before(async () => {
  // The schedd's clock is moved past a proxy's end; it starts at the real time, since proxies
  // are checked against it.
  clock = new ManualClock(Date.now());
  env = await startEnv({ clock });
  work = join(env.dir, "submit");
  mkdirSync(work);
  rogue = createTestPki();
});
after(async () => {
  rogue.cleanup();
  await env.close();
});

const updraft = (args: string[]) => runCli(env, work, args);
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const endOf = (pem: string) =>
  String(Math.floor(parseCertificate(pemCertificates(pem)[0]!).notAfter.getTime() / 1000));

/** A fresh proxy of alice's, as `x509up` in the submit directory (the file jobs name). */
function newProxy(hours: number): string {
  const p = env.pki.proxyOf(env.pki.user, { hours });
  copyFileSync(p.file, join(work, "x509up"));
  return p.pem;
}

async function submit(text: string): Promise<string> {
  writeFileSync(join(work, "job.sub"), text);
  const sub = await updraft(["submit", "job.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  return /submitted to cluster (\d+)/.exec(sub.stdout)![1]!;
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a running job finds the refreshed proxy in its sandbox", async () => {
  const first = newProxy(12);
  // The job notes its proxy's hash, then waits for the file to change and notes the new one.
  writeFileSync(
    join(work, "watch.sh"),
    [
      "#!/bin/sh",
      'h() { sha256sum < "$X509_USER_PROXY" | cut -d" " -f1; }',
      'a=$(h); echo "first=$a"',
      "i=0",
      'while [ "$(h)" = "$a" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done',
      'echo "second=$(h)"',
      'echo "mode=$(stat -c %a "$X509_USER_PROXY")"',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const cluster = await submit(
    "executable = watch.sh\nx509userproxy = x509up\noutput = job.out\nrequest_memory = 64\nqueue\n",
  );
  const pilot = runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, Date.now(), () => 0),
    identity: { pilotId: "pilot-refresh", host: "wn01" },
    resources: { cpus: 1, memoryMb: 1000, diskKb: 4_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
    published: {},
    workDir: join(env.dir, "pilot"),
    sources: [scheddSource(env.schedd.url(), env.client("pilot"))],
    advertiser: { advertise: async () => {}, invalidate: async () => {} },
    claimRetryMs: 200,
    heartbeat: { floorMs: 200, ceilingMs: 300 },
  });
  const alice = env.client("alice");
  await until("the job to run", async () => {
    const [j] = await alice.query({ ids: [`${cluster}.0`] });
    return j?.JobStatus === "2" ? j : undefined;
  });
  const second = newProxy(24);
  const r = await updraft(["refresh-proxy", `${cluster}.0`, join(work, "x509up")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Job ${cluster}\\.0: proxy refreshed from `));
  // The job ends as soon as it sees the new file, so by now it may have left the queue.
  const [after] = [
    ...(await alice.query({ ids: [`${cluster}.0`] })),
    ...(await alice.query({ ids: [`${cluster}.0`], history: true })),
  ];
  assert.equal(after!.x509UserProxyExpiration, endOf(second));

  const result = await pilot;
  assert.equal(result.jobs.length, 1);
  const [done] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(done!.JobStatus, "4", "completed, not held");
  let out = "";
  for await (const ch of alice.fetchOutput(`${cluster}.0`)) {
    if (ch.name === "job.out") out += Buffer.from(ch.data).toString();
  }
  const seen = Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => l.split("=", 2)),
  );
  assert.equal(seen.first, sha256(first));
  assert.equal(seen.second, sha256(second), "the job saw the renewed proxy");
  assert.equal(seen.mode, "600");
});

test("idle jobs whose proxy expired are held with code 4 and run again once refreshed", async () => {
  const short = newProxy(1);
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\ntrue\n", { mode: 0o755 });
  const cluster = await submit(
    "executable = run.sh\nx509userproxy = x509up\nrequest_memory = 64\nqueue 2\n",
  );
  const alice = env.client("alice");
  const ids = [`${cluster}.0`, `${cluster}.1`];
  for (const j of await alice.query({ ids })) {
    assert.equal(j.x509UserProxyExpiration, endOf(short));
    assert.equal(j.JobStatus, "1");
  }

  clock.advance(2 * 3_600_000);
  env.schedd.tick();
  const held = await alice.query({ ids });
  assert.equal(held.length, 2);
  for (const j of held) {
    assert.equal(j.JobStatus, "5");
    assert.equal(j.HoldReasonCode, "4", "HTCondor's CorruptedCredential");
    assert.match(j.HoldReason!, /^"Job proxy expired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    assert.match(j.HoldReason!, new RegExp(`updraft refresh-proxy ${cluster}\\.\\d`));
  }

  // The expired file itself is refused (the schedd's clock is past its end).
  const stale = await updraft(["refresh-proxy", cluster]);
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /the proxy is refused: expired: .*renew it with 'updraft proxy init'/);

  // Another subject's proxy cannot stand in for alice's, nor one from a CA nobody trusts.
  const bobProxy = env.pki.proxyOf(env.creds.bob);
  const other = await updraft(["refresh-proxy", cluster, bobProxy.file]);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, new RegExp(`Job ${cluster}\\.0: the proxy stands for .*CN=Bob`));
  writeFileSync(join(work, "forged.pem"), rogue.proxy.pem, { mode: 0o600 });
  const forged = await updraft(["refresh-proxy", cluster, "forged.pem"]);
  assert.notEqual(forged.code, 0);
  assert.match(forged.stderr, /the proxy is refused: bad-signature/);
  // Bob may not refresh alice's jobs, even with a good proxy of his own.
  await assert.rejects(
    env.client("bob").refreshProxy(cluster, Buffer.from(bobProxy.pem)),
    /is not yours/,
  );
  for (const j of await alice.query({ ids })) {
    assert.equal(j.x509UserProxyExpiration, endOf(short), "nothing refused was recorded");
  }

  // The user renews the file the jobs named and sends it for the whole cluster.
  const renewed = newProxy(12);
  const r = await updraft(["refresh-proxy", cluster]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    ids.map((id) => `Job ${id}: proxy refreshed from ${join(work, "x509up")}\n`).join(""),
  );
  const spooled = join(env.dir, "state", "spool", cluster, "shared", "input", "x509up");
  assert.equal(readFileSync(spooled, "latin1"), renewed);
  const rel = await updraft(["release", cluster]);
  assert.equal(rel.code, 0, rel.stderr);
  env.schedd.tick();
  for (const j of await alice.query({ ids })) {
    assert.equal(j.x509UserProxyExpiration, endOf(renewed));
    assert.equal(j.JobStatus, "1", "idle again and not held anew");
  }
  assert.equal(basename(spooled), "x509up");
});

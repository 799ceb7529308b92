/**
 * The user's proxy goes with the job (`use_x509userproxy`, `x509userproxy`): `updraft submit`
 * (bin/updraft.js) sends it with the inputs to a real schedd, which checks its chain and records
 * `x509userproxysubject` and `x509UserProxyExpiration` from it; a real pilot runs the job, which
 * finds `X509_USER_PROXY` naming a 0600 copy in its own sandbox, byte for byte the user's file.
 * A proxy from a CA the schedd does not trust is refused at upload, and the submit leaves no job
 * behind in the queue. A VOMS proxy (voms-proxy-fake) adds its VO and FQANs to the job ad.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import { runPilot } from "../../src/pilot/run-pilot.js";
import { scheddSource } from "../../src/pilot/schedd-source.js";
import { parseCertificate, pemCertificates } from "../../src/security/cert-info.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { vomsProxy } from "../security/tools.js";
import { runCli, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
let work: string;
let rogue: TestPki;
before(async () => {
  env = await startEnv({ clock: systemClock });
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

/** A JWT as the job's own bearer token; the job, not the schedd, is its audience. */
function jwt(exp: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "ES256", typ: "JWT" })}.${part({ sub: "alice", exp })}.c2lnbmF0dXJl`;
}

const SCRIPT = [
  "#!/bin/sh",
  'echo "proxy=$X509_USER_PROXY"',
  'echo "scratch=$_CONDOR_SCRATCH_DIR"',
  'echo "mode=$(stat -c %a "$X509_USER_PROXY")"',
  'echo "sha=$(sha256sum < "$X509_USER_PROXY" | cut -d" " -f1)"',
  'echo "token=$BEARER_TOKEN_FILE"',
  'echo "tokenmode=$(stat -c %a "$BEARER_TOKEN_FILE")"',
  'echo "tokensha=$(sha256sum < "$BEARER_TOKEN_FILE" | cut -d" " -f1)"',
  "",
].join("\n");

test("use_x509userproxy: the schedd records the proxy's subject and expiry, the job reads its 0600 copy", async () => {
  writeFileSync(join(work, "check.sh"), SCRIPT, { mode: 0o755 });
  writeFileSync(
    join(work, "proxy.sub"),
    "executable = check.sh\nuse_x509userproxy = true\nscitokens_file = job.token\noutput = job.out\nrequest_memory = 64\nqueue\n",
  );
  writeFileSync(join(work, "job.token"), `${jwt(Math.floor(Date.now() / 1000) + 3600)}\n`, {
    mode: 0o600,
  });
  const sub = await updraft(["submit", "proxy.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const cluster = /submitted to cluster (\d+)/.exec(sub.stdout)![1]!;

  const alice = env.client("alice");
  const [queued] = await alice.query({ ids: [`${cluster}.0`] });
  assert.equal(queued!.x509userproxy, JSON.stringify(env.pki.proxy.file));
  assert.equal(queued!.x509userproxysubject, JSON.stringify(env.pki.user.subject));
  const proxyEnd = parseCertificate(pemCertificates(env.pki.proxy.pem)[0]!).notAfter;
  assert.equal(queued!.x509UserProxyExpiration, String(Math.floor(proxyEnd.getTime() / 1000)));
  assert.equal(queued!.JobStatus, "1", "released after the upload");
  // The spooled copy is private to the schedd's user, as is its folder.
  const spooled = join(env.dir, "state", "spool", cluster, "shared", "input");
  assert.equal(statSync(join(spooled, basename(env.pki.proxy.file))).mode & 0o777, 0o600);
  assert.equal(statSync(spooled).mode & 0o777, 0o700);

  const result = await runPilot({
    clock: systemClock,
    plan: planLifetime({ maxWalltimeS: 600, maxIdleS: 1 }, Date.now(), () => 0),
    identity: { pilotId: "pilot-proxy", host: "wn01" },
    resources: { cpus: 1, memoryMb: 1000, diskKb: 4_000_000, gpus: 0 },
    nodeAttrs: { OpSys: "LINUX", Arch: "X86_64" },
    published: {},
    workDir: join(env.dir, "pilot"),
    sources: [scheddSource(env.schedd.url(), env.client("pilot"))],
    advertiser: { advertise: async () => {}, invalidate: async () => {} },
    claimRetryMs: 200,
  });
  assert.equal(result.jobs.length, 1);
  const [done] = await alice.query({ ids: [`${cluster}.0`], history: true });
  assert.equal(done!.JobStatus, "4", "completed");

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
  assert.equal(seen.proxy, join(seen.scratch!, basename(env.pki.proxy.file)));
  assert.equal(seen.mode, "600");
  assert.equal(seen.sha, sha256(readFileSync(env.pki.proxy.file)));
  assert.equal(seen.token, join(seen.scratch!, "job.token"));
  assert.equal(seen.tokenmode, "600");
  assert.equal(seen.tokensha, sha256(readFileSync(join(work, "job.token"))));
});

test("a proxy from an untrusted CA is refused at upload and no job stays in the queue", async () => {
  // Same DN as alice's, signed by a CA the schedd does not know: it must not speak for alice.
  writeFileSync(join(work, "forged.pem"), rogue.proxy.pem, { mode: 0o600 });
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\ntrue\n", { mode: 0o755 });
  writeFileSync(
    join(work, "forged.sub"),
    "executable = run.sh\nx509userproxy = forged.pem\nqueue 2\n",
  );
  const sub = await updraft(["submit", "forged.sub"]);
  assert.notEqual(sub.code, 0);
  assert.match(sub.stderr, /the job's proxy forged\.pem is refused: bad-signature/);
  assert.match(sub.stderr, /no jobs were submitted \(cluster \d+ removed\)/);
  const cluster = /cluster (\d+) removed/.exec(sub.stderr)![1]!;
  const alice = env.client("alice");
  assert.deepEqual(await alice.query({ ids: [cluster] }), [], "nothing left in the queue");
  const gone = await alice.query({ ids: [cluster], history: true });
  assert.deepEqual(
    gone.map((j) => j.JobStatus),
    ["3", "3"],
    "both jobs removed",
  );
  // Nothing was recorded from the refused file.
  assert.ok(gone.every((j) => j.x509UserProxyExpiration === undefined));
});

test("a VOMS proxy's VO and FQANs are in the job ad, as HTCondor's schedd writes them, and the pilot gets them", async () => {
  const fqans = ["/cms/Role=NULL/Capability=NULL", "/cms/uscms/Role=pilot/Capability=NULL"];
  vomsProxy({
    user: env.pki.user,
    host: env.pki.host,
    vo: "cms",
    fqans,
    out: join(work, "voms.pem"),
  });
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\ntrue\n", { mode: 0o755 });
  writeFileSync(
    join(work, "voms.sub"),
    // A client's own values are dropped: only the proxy the schedd checked speaks.
    'executable = run.sh\nx509userproxy = voms.pem\n+x509UserProxyVOName = "atlas"\nrequest_memory = 64\nqueue\n',
  );
  const sub = await updraft(["submit", "voms.sub"]);
  assert.equal(sub.code, 0, sub.stderr);
  const cluster = /submitted to cluster (\d+)/.exec(sub.stdout)![1]!;
  const [queued] = await env.client("alice").query({ ids: [`${cluster}.0`] });
  const expected = {
    x509userproxysubject: JSON.stringify(env.pki.user.subject),
    x509UserProxyVOName: '"cms"',
    x509UserProxyFirstFQAN: '"/cms/Role=NULL/Capability=NULL"',
    x509UserProxyFQAN: JSON.stringify(`${env.pki.user.subject},${fqans.join(",")}`),
  };
  for (const [name, value] of Object.entries(expected)) assert.equal(queued![name], value, name);

  const pilot = env.client("pilot");
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${cluster}.0`);
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(offer.job!.attrs[name], value, `the pilot's ${name}`);
  }
  await pilot.completeJob({ leaseId: offer.leaseId, exitCode: 0 });
});

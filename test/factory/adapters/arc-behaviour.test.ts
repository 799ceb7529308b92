/**
 * What the arc adapter does beyond the conformance suite, against a real A-REX: the delegated
 * proxy reaches the pilot, a submission the factory never recorded is found by name, a CE that
 * refuses or does not answer gives per-pilot errors and holds (never a throw), and the ADL
 * dialect runs.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pino } from "pino";
import { createArcAdapter } from "../../../src/factory/adapters/arc/arc-adapter.js";
import { openJournal } from "../../../src/factory/adapters/arc/journal.js";
import type { GridAdapter, PilotSpec } from "../../../src/factory/adapters/types.js";
import { startArcPeer } from "../../helpers/arc-peer.js";
import { createTestPki } from "../../helpers/pki.js";
import { waitForState } from "./conformance.js";

const pki = createTestPki();
const peer = await startArcPeer({ pki, allowedDns: [pki.user.subject] });
const work = mkdtempSync(join(tmpdir(), "updraft-arc-behaviour-"));
chmodSync(work, 0o755);
const adapters: GridAdapter[] = [];
let silent: Server | undefined;
after(async () => {
  for (const a of adapters) await a.close();
  silent?.close();
  await peer.stop();
  pki.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function adapter(
  over: Record<string, unknown> = {},
  stateDir?: string,
  now: () => number = () => Date.now(),
  logger = pino({ level: "silent" }),
): GridAdapter {
  const dir = stateDir ?? mkdtempSync(join(work, "state-"));
  const a = createArcAdapter(
    {
      endpoint: peer.endpoint,
      ca_dir: pki.caDir,
      client_proxy: pki.proxy.file,
      // The real CE gets the adapter's own deadline: under load A-REX takes more than a few
      // seconds to make a delegation's key, and a call given up on is a test that measured time.
      ...over,
    },
    { stateDir: dir, logger, now },
  );
  adapters.push(a);
  return a;
}

function spec(intentId: number, script: string, credentialFile?: string): PilotSpec {
  const command = join(work, `pilot-${n++}.sh`);
  writeFileSync(command, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return {
    intentId,
    command,
    args: ["one", "two words"],
    env: { GREETING: 'say "hi"' },
    credentialFile,
    resources: { cpus: 1, memoryMb: 64, walltimeS: 300 },
  };
}

const STATE_MS = 45_000;

test(
  "the pilot gets its arguments, environment and the delegated proxy of its credential",
  {
    timeout: 90_000,
  },
  async () => {
    const a = adapter();
    const [r] = await a.submit([
      spec(
        1,
        'echo "args=$1|$2 greeting=$GREETING id=$UPDRAFT_PILOT_ID"\n' +
          'openssl x509 -in "$X509_USER_PROXY" -noout -subject -issuer -nameopt compat',
        pki.proxy.file,
      ),
    ]);
    assert.ok(r!.ok, r!.ok ? "" : r!.error);
    const s = await waitForState(a, r!.handle, "Finished", STATE_MS);
    const out = await a.fetchOutput(r!.handle);
    assert.equal(s.exitCode, 0, out.stderr);
    assert.match(out.stdout, /args=one\|two words greeting=say "hi" id=1/);
    // The CE holds a proxy one level below the pilot's credential (itself a proxy of Alice).
    const m = /subject=(\/DC=org\/DC=example\/CN=Alice\/CN=\d+)\/CN=\d+\nissuer=(.*)\n/.exec(
      out.stdout,
    );
    assert.ok(m, out.stdout);
    assert.equal(m[2], m[1]);
  },
);

test(
  "a submission the factory never recorded is found by name on recovery",
  {
    timeout: 60_000,
  },
  async () => {
    const dir = mkdtempSync(join(work, "state-"));
    const a = adapter({}, dir);
    const [r] = await a.submit([spec(7, "true")]);
    assert.ok(r!.ok);
    await a.close();
    // Rewrite the journal as a crash right after the POST would have left it: intent, no id.
    const file = join(dir, "arc-jobs.jsonl");
    const tag = readFileSync(join(dir, "arc-tag"), "utf8").trim();
    writeFileSync(
      file,
      JSON.stringify({ t: "intent", intent: 7, name: `updraft-${tag}-7` }) + "\n",
    );
    const b = adapter({}, dir);
    const rec = await b.recover();
    assert.deepEqual(
      rec.map((p) => [p.intentId, p.handle]),
      [[7, r!.handle]],
    );
    assert.deepEqual([...openJournal(file).state.pending], []);
  },
);

test("a CE that refuses the factory's certificate gives per-pilot errors and holds", async () => {
  const stranger = pki.issueUser("/DC=org/DC=example/CN=Mallory");
  const a = adapter({
    client_proxy: undefined,
    client_cert: stranger.certFile,
    client_key: stranger.keyFile,
  });
  const rs = await a.submit([spec(20, "true"), spec(21, "true")]);
  assert.deepEqual(
    rs.map((r) => [r.intentId, r.ok]),
    [
      [20, false],
      [21, false],
    ],
  );
  assert.match(rs[0]!.ok ? "" : rs[0]!.error, /the CE refused the submission: HTTP 403/);
  const s = (await a.status(["some-id"])).get("some-id")!;
  assert.equal(s.state, "Held");
  assert.equal(s.holdRecoverable, true);
  assert.match(s.holdReason!, /the CE did not answer the status query: .*HTTP 403/);
});

test("a CE that does not answer in time gives errors and holds, not a throw", async () => {
  // A TCP port that accepts and never speaks: the TLS handshake waits for the deadline.
  silent = createServer(() => {});
  await new Promise<void>((r) => silent!.listen(0, "127.0.0.1", r));
  const port = (silent.address() as { port: number }).port;
  const a = adapter({ endpoint: `https://localhost:${port}/arex`, request_timeout_s: 1 });
  const [r] = await a.submit([spec(30, "true")]);
  assert.equal(r!.ok, false);
  assert.match(r!.ok ? "" : r!.error, /POST \/jobs\?action=new: no answer within 1 s/);
  const s = (await a.status(["x"])).get("x")!;
  assert.equal(s.state, "Held");
  assert.match(s.holdReason!, /no answer within 1 s/);
  assert.deepEqual(await a.recover(), []);
});

test("a pilot command that is missing is an error for that pilot only", async () => {
  const a = adapter();
  const good = spec(40, "true");
  const rs = await a.submit([{ ...good, intentId: 41, command: join(work, "nope") }, good]);
  assert.equal(rs[0]!.ok, false);
  assert.match(rs[0]!.ok ? "" : rs[0]!.error, /ENOENT.*nope/);
  assert.ok(rs[1]!.ok);
  await a.remove([rs[1]!.ok ? rs[1]!.handle : ""]);
});

test("the ADL dialect runs a pilot with its exit status", { timeout: 150_000 }, async () => {
  let clock = Date.now();
  const a = adapter({ dialect: "adl" }, undefined, () => clock);
  const [r] = await a.submit([spec(50, 'echo "adl $1"; exit 2', pki.proxy.file)]);
  assert.ok(r!.ok, r!.ok ? "" : r!.error);
  const s = await waitForState(a, r!.handle, "Finished", STATE_MS);
  assert.equal(s.exitCode, 2);
  assert.match((await a.fetchOutput(r!.handle)).stdout, /^adl one\n/);
  await a.purge!([r!.handle]);
  // A-REX queues the clean (202) and drops the job on a later pass of its loop, which a loaded
  // machine slows; a clean it did not take is sent again once a minute of the adapter's clock,
  // which jumps here.
  const end = Date.now() + 2 * STATE_MS;
  while ((await a.status([r!.handle])).get(r!.handle)?.state !== "Unknown") {
    assert.ok(Date.now() < end, "the CE never dropped the purged job");
    clock += 61_000;
    await new Promise((res) => setTimeout(res, 500));
  }
});

test(
  "a purge the CE does not answer is sent again by the next adapter on that state",
  { timeout: 150_000 },
  async () => {
    const dir = mkdtempSync(join(work, "state-"));
    const a = adapter({}, dir);
    const [r] = await a.submit([spec(80, "sleep 2")]);
    assert.ok(r!.ok, r!.ok ? "" : r!.error);
    const id = r!.handle;
    await a.close();
    const mute = createServer(() => {});
    await new Promise<void>((res) => mute.listen(0, "127.0.0.1", res));
    after(() => mute.close());
    const port = (mute.address() as { port: number }).port;
    const b = adapter({ endpoint: `https://localhost:${port}/arex`, request_timeout_s: 1 }, dir);
    await b.purge!([id]);
    const unclean = () => [...openJournal(join(dir, "arc-jobs.jsonl")).state.unclean];
    assert.deepEqual(unclean(), [id], "the journal keeps the job the CE did not hear about");
    await b.close();
    // A restarted factory sends the clean again, and keeps sending it (once a minute of its
    // clock, which jumps here) until A-REX, once the job has ended, no longer knows it.
    let clock = Date.now();
    const c = adapter({}, dir, () => clock);
    const end = Date.now() + 2 * STATE_MS;
    while (unclean().length > 0) {
      assert.ok(Date.now() < end, "the CE never dropped the purged job");
      await c.status([]);
      clock += 61_000;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal((await c.status([id])).get(id)?.state, "Unknown");
  },
);

test(
  "a delegation close to its end is renewed in place on the CE",
  { timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(work, "state-"));
    // A margin longer than the lifetime: every status call finds the delegation due.
    // Renewal failures are logged, not thrown (the next status call tries again): kept here so
    // that a renewal the CE refused or did not answer is named in the failure.
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
    const a = adapter(
      { delegation_lifetime_h: 1, delegation_renew_margin_s: 7200 },
      dir,
      undefined,
      logger,
    );
    const [r] = await a.submit([
      spec(60, 'sleep 8; openssl x509 -in "$X509_USER_PROXY" -noout -serial', pki.proxy.file),
    ]);
    assert.ok(r!.ok, r!.ok ? "" : r!.error);
    const journal = join(dir, "arc-jobs.jsonl");
    const delegs = () =>
      [
        ...readFileSync(journal, "utf8").matchAll(/"t":"deleg".*"id":"([^"]+)".*"notAfter":(\d+)/g),
      ].map((m) => [m[1], Number(m[2])] as const);
    assert.equal(delegs().length, 1);
    await new Promise((res) => setTimeout(res, 1100));
    await a.status([r!.handle]);
    const after = delegs();
    assert.equal(after.length, 2, `the status call renewed the delegation: ${warnings.join("")}`);
    assert.equal(after[1]![0], after[0]![0], "renewed under the same id");
    assert.ok(after[1]![1] > after[0]![1]);
    const s = await waitForState(a, r!.handle, "Finished", STATE_MS);
    assert.equal(s.exitCode, 0, (await a.fetchOutput(r!.handle)).stderr);
  },
);

test(
  "a pilot the CE cannot run is an error or a hold with the CE's reason",
  {
    timeout: 90_000,
  },
  async () => {
    // Refused at submission: the per-job status code inside the HTTP 201.
    const a = adapter({ queue: "no-such-queue" });
    const [r] = await a.submit([spec(70, "true")]);
    assert.equal(r!.ok, false);
    assert.match(
      r!.ok ? "" : r!.error,
      /^the CE refused the pilot: 500 Requested queue no-such-queue is not allowed/,
    );
    // Accepted, then failed by the CE before the payload ran: held, not recoverable.
    const b = adapter({ runtime_environments: ["NO/SUCH/RTE"] });
    const [q] = await b.submit([spec(71, "true")]);
    assert.ok(q!.ok, q!.ok ? "" : q!.error);
    const s = await waitForState(b, q!.handle, ["Held", "Finished"], STATE_MS);
    assert.deepEqual(s, {
      handle: q!.handle,
      state: "Held",
      holdReason:
        "the CE failed the job: ERROR: Requested RunTimeEnvironment NO/SUCH/RTE is missing, broken or not enabled.",
      holdRecoverable: false,
    });
    assert.match((await b.fetchOutput(q!.handle)).stderr, /^--- CE diagnostics \(errors\) ---\n/);
  },
);

/**
 * SIGKILLs a real schedd process at random moments while users submit and pilots claim and
 * complete, restarts it on the same state, and checks after every kill that: every acknowledged
 * submit is present exactly once (and no cluster is ever half there), no job is both running and
 * idle (a running job has exactly one live lease, nothing else has one), and no acknowledged lease
 * was lost. Clusters whose reply was lost are resent after the restart and must then be accepted
 * or refused as already submitted, never duplicated.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { stringify } from "yaml";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { codeOf, DN, job, rpcFor, slot, testPki } from "./harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const ROUNDS = 6;

interface Ledger {
  clusters: Map<number, number>; // acknowledged: cluster -> job count
  uncertain: Map<number, number>; // sent, reply lost
  leases: Map<string, string>; // acknowledged claim: lease -> job id
  completing: Set<string>; // completion sent (acknowledged or not)
}

function acknowledged(l: Ledger): number {
  return l.clusters.size + l.leases.size;
}

function startChild(configFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, "schedd", "--config", configFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const rec = JSON.parse(line) as { msg?: string; url?: string };
      if (rec.msg === "schedd ready") resolve({ child, url: rec.url! });
    });
    child.once("exit", (code) => reject(new Error(`schedd exited early (${code})`)));
  });
}

async function submitter(c: ScheddClient, ledger: Ledger, stop: { done: boolean }) {
  while (!stop.done) {
    let id: number;
    try {
      id = await c.newCluster();
    } catch {
      return;
    }
    const n = 1 + Math.floor(Math.random() * 40);
    try {
      await c.submitJobs(
        id,
        Array.from({ length: n }, () => job()),
        { deadlineMs: 5000 },
      );
      ledger.clusters.set(id, n);
    } catch {
      ledger.uncertain.set(id, n);
      return;
    }
  }
}

async function pilotLoop(c: ScheddClient, ledger: Ledger, stop: { done: boolean }) {
  while (!stop.done) {
    try {
      const offer = await c.claimJob(slot(), 0, { deadlineMs: 5000 });
      if (!offer.matched) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      ledger.leases.set(offer.leaseId, offer.jobId);
      if (Math.random() < 0.6) {
        ledger.completing.add(offer.leaseId);
        await c.completeJob({ leaseId: offer.leaseId, exitCode: 0 });
      }
    } catch {
      return;
    }
  }
}

function checkInvariants(dbFile: string, ledger: Ledger): void {
  const db = new Database(dbFile, { readonly: true });
  try {
    const count = db.prepare(
      "SELECT (SELECT COUNT(*) FROM jobs WHERE cluster = ?) + (SELECT COUNT(*) FROM history WHERE cluster = ?) AS n",
    );
    for (const [cluster, n] of ledger.clusters) {
      assert.equal((count.get(cluster, cluster) as { n: number }).n, n, `cluster ${cluster}`);
    }
    for (const row of db.prepare("SELECT id, submitted FROM clusters").all() as {
      id: number;
      submitted: number;
    }[]) {
      assert.equal(
        (count.get(row.id, row.id) as { n: number }).n,
        row.submitted,
        `cluster ${row.id} whole or absent`,
      );
    }
    const both = db
      .prepare("SELECT COUNT(*) AS n FROM jobs j JOIN history h USING (cluster, proc)")
      .get() as { n: number };
    assert.equal(both.n, 0, "no job both in the queue and in history");
    const running = db
      .prepare(
        "SELECT j.cluster, j.proc, (SELECT COUNT(*) FROM leases l WHERE l.cluster = j.cluster AND l.proc = j.proc AND l.state = 'active') AS live FROM jobs j WHERE j.status = 2",
      )
      .all() as { cluster: number; proc: number; live: number }[];
    for (const r of running)
      assert.equal(r.live, 1, `running job ${r.cluster}.${r.proc} has one live lease`);
    const strayLeases = db
      .prepare(
        "SELECT COUNT(*) AS n FROM leases l WHERE l.state = 'active' AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.cluster = l.cluster AND j.proc = l.proc AND j.status = 2)",
      )
      .get() as { n: number };
    assert.equal(strayLeases.n, 0, "every live lease belongs to a running job");
    const lease = db.prepare("SELECT state, cluster, proc FROM leases WHERE id = ?");
    for (const [id, jobId] of ledger.leases) {
      const row = lease.get(id) as { state: string; cluster: number; proc: number } | undefined;
      assert.ok(row, `acknowledged lease ${id} is known`);
      assert.equal(`${row.cluster}.${row.proc}`, jobId);
      if (!ledger.completing.has(id)) assert.equal(row.state, "active", `lease ${id} not lost`);
      else assert.ok(row.state === "active" || row.state === "completed");
    }
  } finally {
    db.close();
  }
}

test("a SIGKILLed schedd restarts with every acknowledged submit and lease intact", async () => {
  const { pki, creds } = testPki();
  const dir = mkdtempSync(join(tmpdir(), "updraft-crash-"));
  const configFile = join(dir, "schedd.yaml");
  writeFileSync(
    configFile,
    stringify({
      listen: { host: "127.0.0.1", port: 0 },
      tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
      state_dir: join(dir, "state"),
      authorization: {
        rules: [
          { identity: DN.alice, roles: ["user"] },
          { identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] },
        ],
        default_roles: [],
      },
    }),
  );
  const ledger: Ledger = {
    clusters: new Map(),
    uncertain: new Map(),
    leases: new Map(),
    completing: new Set(),
  };
  let child: ChildProcess | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const started = await startChild(configFile);
      child = started.child;
      const alice = scheddClient(rpcFor(pki, creds, "alice", started.url));
      const pilots = [0, 1, 2].map(() => scheddClient(rpcFor(pki, creds, "pilot", started.url)));
      // Resend the clusters whose reply was lost: accepted now, or already there, never twice.
      for (const [id, n] of ledger.uncertain) {
        try {
          await alice.submitJobs(
            id,
            Array.from({ length: n }, () => job()),
          );
          ledger.clusters.set(id, n);
        } catch (err) {
          assert.equal(codeOf(err), "already-exists");
          ledger.clusters.set(id, n);
        }
      }
      ledger.uncertain.clear();
      const stop = { done: false };
      const work = Promise.all([
        submitter(alice, ledger, stop),
        submitter(alice, ledger, stop),
        ...pilots.map((p) => pilotLoop(p, ledger, stop)),
      ]);
      // The kill point is a random number of acknowledged operations into the round (not a
      // time), with other calls in flight; a time limit only guards against a stuck round.
      const target = acknowledged(ledger) + 5 + Math.floor(Math.random() * 60);
      const deadline = Date.now() + 20_000;
      while (acknowledged(ledger) < target && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2));
      }
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      child = undefined;
      stop.done = true;
      await work;
      for (const c of [alice, ...pilots]) await c.rpc.close();
      checkInvariants(join(dir, "state", "queue.sqlite"), ledger);
    }
    assert.ok(ledger.clusters.size > 0, "some submits were acknowledged");
    assert.ok(ledger.leases.size > 0, "some claims were acknowledged");
  } finally {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import type { FileChunk } from "../../src/schedd/messages.js";
import { codeOf, job, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv({ extra: { sandbox: { max_file_mb: 1, max_sandbox_mb: 2 } } });
});
after(() => env.close());

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function chunk(name: string, data: Uint8Array, extra: Partial<FileChunk> = {}): FileChunk {
  return { name, offset: 0, data, last: true, sha256: sha(data), leaseId: "", jobId: "", ...extra };
}

async function collect(it: AsyncIterable<FileChunk>) {
  const files = new Map<string, { data: Buffer; sha256: string }>();
  for await (const c of it) {
    const prev = files.get(c.name)?.data ?? Buffer.alloc(0);
    files.set(c.name, { data: Buffer.concat([prev, c.data]), sha256: c.sha256 });
  }
  return files;
}

test("input goes up with the job held, comes down to the pilot; output goes back to the user", async () => {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [job()], { holdForInput: true });
  const [held] = await alice.query({ ids: [String(cluster)] });
  assert.equal(held!.HoldReasonCode, "16");
  const pilot = env.client("pilot");
  assert.equal((await pilot.claimJob(slot())).matched, false, "not runnable before its input");

  const big = Buffer.alloc(600 * 1024, 7); // more than one chunk
  const half = 300 * 1024;
  await alice.putInput(
    chunk("data/big.bin", big.subarray(0, half), {
      jobId: String(cluster),
      last: false,
      sha256: "",
    }),
  );
  await alice.putInput(
    chunk("data/big.bin", big.subarray(half), {
      jobId: String(cluster),
      offset: half,
      sha256: sha(big),
    }),
  );
  await alice.putInput(
    chunk("run.sh", Buffer.from("#!/bin/sh\necho hi\n"), { jobId: `${cluster}.0` }),
  );
  await alice.act("release", { ids: [String(cluster)] });

  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${cluster}.0`);
  const input = await collect(pilot.fetchInput(offer.leaseId));
  assert.deepEqual([...input.keys()].sort(), ["data/big.bin", "run.sh"]);
  assert.ok(input.get("data/big.bin")!.data.equals(big));
  assert.equal(input.get("data/big.bin")!.sha256, sha(big));

  const out = Buffer.from("result\n");
  await pilot.putOutput(chunk("out.txt", out, { leaseId: offer.leaseId }));
  await pilot.completeJob({
    leaseId: offer.leaseId,
    outputs: [{ name: "out.txt", size: out.length, sha256: sha(out) }],
  });
  const back = await collect(alice.fetchOutput(`${cluster}.0`));
  assert.ok(back.get("out.txt")!.data.equals(out));
  await assert.rejects(
    collect(env.client("bob").fetchOutput(`${cluster}.0`)),
    (e) => codeOf(e) === "permission-denied",
  );
});

test("names that would leave the sandbox, bad checksums, gaps and oversize files are refused", async () => {
  const alice = env.client("alice");
  const cluster = await alice.newCluster();
  await alice.submitJobs(cluster, [job()], { holdForInput: true });
  const jobId = `${cluster}.0`;
  for (const name of [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd",
    "a//b",
    "./x",
    "x\\..\\y",
  ]) {
    await assert.rejects(
      alice.putInput(chunk(name, Buffer.from("x"), { jobId })),
      (e) => codeOf(e) === "invalid-argument",
      name,
    );
  }
  await assert.rejects(
    alice.putInput(chunk("f.txt", Buffer.from("x"), { jobId, sha256: "0".repeat(64) })),
    (e) => codeOf(e) === "invalid-argument",
  );
  await assert.rejects(
    alice.putInput(chunk("g.txt", Buffer.from("x"), { jobId, offset: 10 })),
    (e) => codeOf(e) === "invalid-argument",
  );
  await assert.rejects(
    alice.putInput(chunk("huge.bin", Buffer.alloc(1024 * 1024 + 1), { jobId })),
    (e) => codeOf(e) === "resource-exhausted",
  );
  await assert.rejects(
    env.client("bob").putInput(chunk("h.txt", Buffer.from("x"), { jobId })),
    (e) => codeOf(e) === "permission-denied",
  );
  await alice.act("release", { ids: [jobId] });
  const offer = await env.client("pilot").claimJob(slot());
  const files = await collect(env.client("pilot").fetchInput(offer.leaseId));
  assert.equal(files.size, 0, "nothing refused was kept");
  await assert.rejects(
    env
      .client("pilot")
      .putOutput(chunk("../../../../tmp/evil", Buffer.from("x"), { leaseId: offer.leaseId })),
    (e) => codeOf(e) === "invalid-argument",
  );
  await assert.rejects(
    env.client("pilot2").putOutput(chunk("o.txt", Buffer.from("x"), { leaseId: offer.leaseId })),
    (e) => codeOf(e) === "permission-denied",
  );
});

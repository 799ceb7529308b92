/**
 * The schedd's state directory holds job ads, inputs (proxies and tokens among them) and outputs:
 * after a submit, upload, run and complete cycle, every directory under it is 0700 and every file
 * 0600 (queue.sqlite and its WAL and shared-memory files, every sandbox file). A state directory
 * an older release left looser is tightened when the schedd starts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { FileChunk } from "../../src/schedd/messages.js";
import { job, slot, startEnv, type TestEnv } from "./harness.js";

let env: TestEnv;
before(async () => {
  env = await startEnv();
});
after(() => env.close());

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function chunk(name: string, data: Uint8Array, extra: Partial<FileChunk> = {}): FileChunk {
  return { name, offset: 0, data, last: true, sha256: sha(data), leaseId: "", jobId: "", ...extra };
}

/** Every path under `root` (itself included) with its permission bits, as "path 0700". */
function modes(root: string): string[] {
  const out = [`. ${(statSync(root).mode & 0o777).toString(8)}`];
  for (const rel of readdirSync(root, { recursive: true, encoding: "utf8" }).sort()) {
    out.push(`${rel} ${(statSync(join(root, rel)).mode & 0o777).toString(8)}`);
  }
  return out;
}

function assertPrivate(root: string): string[] {
  const all = modes(root);
  const loose = all.filter((line) => {
    const [rel, mode] = line.split(" ") as [string, string];
    const dir = statSync(join(root, rel)).isDirectory();
    return mode !== (dir ? "700" : "600");
  });
  assert.deepEqual(loose, [], `looser than 0700/0600 under ${root}`);
  return all;
}

test("after a submit/complete cycle the state directory is 0700 and its files 0600", async () => {
  const previous = process.umask(0o022); // the usual umask, which 0644 files would pass through
  try {
    const alice = env.client("alice");
    const pilot = env.client("pilot");
    const cluster = await alice.newCluster();
    await alice.submitJobs(cluster, [job(), job()], { holdForInput: true });
    await alice.putInput(chunk("shared/data.txt", Buffer.from("in\n"), { jobId: String(cluster) }));
    await alice.putInput(chunk("run.sh", Buffer.from("#!/bin/sh\n"), { jobId: `${cluster}.0` }));
    await alice.act("release", { ids: [String(cluster)] });
    const offer = await pilot.claimJob(slot());
    const out = Buffer.from("result\n");
    await pilot.putOutput(chunk("sub/out.txt", out, { leaseId: offer.leaseId }));
    await pilot.completeJob({
      leaseId: offer.leaseId,
      outputs: [{ name: "sub/out.txt", size: out.length, sha256: sha(out) }],
    });
    const proc = offer.jobId.split(".")[1]!;
    // What holds job data is really there, so the walk checked it.
    const holds = (all: string[], want: string[]): void => {
      for (const w of want)
        assert.ok(
          all.some((l) => l.startsWith(`${w} `)),
          `${w}: ${all}`,
        );
    };
    holds(assertPrivate(env.config.state_dir), [
      "queue.sqlite",
      "queue.sqlite-wal",
      "queue.sqlite-shm",
      `spool/${cluster}/shared/input/shared/data.txt`,
      `spool/${cluster}/0/input/run.sh`,
      `spool/${cluster}/${proc}/output/sub/out.txt`,
    ]);
    await alice.act("remove", { ids: [`${cluster}.1`] }); // history holds both now
    env.schedd.tick(); // the sweep drops the inputs, the output stays for transfer-output
    holds(assertPrivate(env.config.state_dir), [`spool/${cluster}/${proc}/output/sub/out.txt`]);
  } finally {
    process.umask(previous);
  }
});

test("a looser state directory left by an older release is tightened at start", async () => {
  // Older releases made these with the default modes (sandboxes were already private).
  const state = env.config.state_dir;
  for (const rel of [".", "spool"]) chmodSync(join(state, rel), 0o755);
  for (const rel of ["queue.sqlite", "queue.sqlite-wal", "queue.sqlite-shm"]) {
    chmodSync(join(state, rel), 0o644);
  }
  await env.restart();
  assertPrivate(state);
});

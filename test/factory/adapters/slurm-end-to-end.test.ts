/**
 * End to end through a real Slurm: the slurm adapter submits a pilot whose payload is a real
 * `updraft pilot run`; as a Slurm job it authenticates with the credential the adapter copied,
 * advertises to a real collector, claims the user's jobs from a real schedd, runs them, uploads
 * their output and ends on its idle limit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import { createSlurmAdapter } from "../../../src/factory/adapters/slurm/slurm-adapter.js";
import { startSlurm } from "../../helpers/slurm-peer.js";
import { job, submit } from "../../schedd/harness.js";
import { completedOutputs, runOnePilot, startPilotWorld } from "./pilot-world.js";

test(
  "a real pilot under Slurm runs a user's jobs from a real schedd",
  { timeout: 150_000 },
  async (t) => {
    const w = await startPilotWorld(t, "slurm");
    const peer = await startSlurm();
    t.after(() => peer.stop());

    const alice = w.env.client("alice");
    const attrs = job({
      Cmd: '"/bin/sh"',
      TransferExecutable: "false",
      Arguments: "\"-c 'echo hi from $(hostname) > out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    });
    const cluster = await submit(alice, [attrs, attrs, attrs]);
    const ids = [0, 1, 2].map((p) => `${cluster}.${p}`);

    const a = createSlurmAdapter(
      { slurm_conf: peer.conf, cpus: 2 },
      { stateDir: join(w.dir, "state"), logger: pino({ level: "silent" }), now: () => Date.now() },
    );
    t.after(() => a.close());
    await runOnePilot(a, w, 2);
    for (const text of await completedOutputs(alice, ids)) assert.match(text, /^hi from \S+\n$/);
  },
);

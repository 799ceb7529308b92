/**
 * End to end through a real ARC CE: the arc adapter submits a pilot whose payload is a real
 * `updraft pilot run`; on the CE (fork back end, running as nobody) it authenticates with the
 * proxy the adapter delegated from its credential, advertises to a real collector, claims the
 * user's jobs from a real schedd, runs them, uploads their output and ends on its idle limit.
 */
import assert from "node:assert/strict";
import { chmodSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import { createArcAdapter } from "../../../src/factory/adapters/arc/arc-adapter.js";
import { startArcPeer } from "../../helpers/arc-peer.js";
import { job, submit } from "../../schedd/harness.js";
import { completedOutputs, runOnePilot, startPilotWorld } from "./pilot-world.js";

test(
  "a real pilot on the ARC CE runs a user's jobs from a real schedd",
  { timeout: 150_000 },
  async (t) => {
    const w = await startPilotWorld(t, "arc");
    const env = w.env;
    // The pilot runs as nobody: it must reach the CA certificates (the keys stay 0600).
    for (let d = env.pki.caDir; d.startsWith(env.pki.dir); d = dirname(d)) {
      chmodSync(d, statSync(d).mode | 0o755);
    }
    const peer = await startArcPeer({ pki: env.pki, allowedDns: [env.pki.user.subject] });
    t.after(() => peer.stop());

    const alice = env.client("alice");
    const attrs = job({
      Cmd: '"/bin/sh"',
      TransferExecutable: "false",
      Arguments: "\"-c 'echo hi from $(id -un) > out.txt'\"",
      TransferOutput: '"out.txt"',
      RequestMemory: "64",
    });
    const cluster = await submit(alice, [attrs, attrs]);
    const ids = [`${cluster}.0`, `${cluster}.1`];

    const a = createArcAdapter(
      {
        endpoint: peer.endpoint,
        ca_dir: env.pki.caDir,
        client_cert: env.pki.user.certFile,
        client_key: env.pki.user.keyFile,
      },
      { stateDir: join(w.dir, "state"), logger: pino({ level: "silent" }), now: () => Date.now() },
    );
    t.after(() => a.close());
    await runOnePilot(a, w, 1);
    for (const text of await completedOutputs(alice, ids)) assert.equal(text, "hi from nobody\n");
  },
);

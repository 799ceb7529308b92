/**
 * The conformance suite against a real A-REX (arched with its REST interface, fork back end) on
 * a loopback port. Pilots present Alice's proxy as their credential, which the adapter delegates
 * to the CE. Two CEs: one that runs a single job at a time (for the suite's one-slot cases) and
 * one without a limit.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { pino } from "pino";
import { createArcAdapter } from "../../../src/factory/adapters/arc/arc-adapter.js";
import { startArcPeer } from "../../helpers/arc-peer.js";
import { createTestPki } from "../../helpers/pki.js";
import { runConformance } from "./conformance.js";

const pki = createTestPki();
const [wide, narrow] = await Promise.all([
  startArcPeer({ pki, allowedDns: [pki.user.subject] }),
  startArcPeer({ pki, allowedDns: [pki.user.subject], maxRunning: 1 }),
]);
const scripts = mkdtempSync(join(tmpdir(), "updraft-arc-scripts-"));
chmodSync(scripts, 0o755);

const script = (intentId: number, text: string): string => {
  const file = join(scripts, `pilot-${intentId}-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, text, { mode: 0o755 });
  return file;
};

runConformance({
  name: "arc",
  timeoutMs: 150_000,
  // A-REX notices a job's end at its next LRMS scan and info provider run, seconds apart; with
  // the Slurm suites beside it (test concurrency 2) its perl scans can lag for tens of seconds.
  stateTimeoutMs: 90_000,
  create(stateDir, slots) {
    // The CE runs jobs as nobody; the suite's scripts leave marker files in this folder.
    chmodSync(stateDir, 0o777);
    return createArcAdapter(
      {
        endpoint: (slots === 1 ? narrow : wide).endpoint,
        ca_dir: pki.caDir,
        client_cert: pki.user.certFile,
        client_key: pki.user.keyFile,
        request_timeout_s: 10,
      },
      { stateDir, logger: pino({ level: "silent" }), now: () => Date.now() },
    );
  },
  spec: (intentId, text) => ({
    intentId,
    command: script(intentId, `#!/bin/sh\n${text}\n`),
    args: [],
    env: {},
    credentialFile: pki.proxy.file,
    resources: { cpus: 1, memoryMb: 100, walltimeS: 600 },
  }),
  // The command's interpreter does not exist on the CE: the wrapper cannot execute it.
  broken: (intentId) => ({
    intentId,
    command: script(intentId, "#!/no/such/interpreter\n"),
    args: [],
    env: {},
    resources: { cpus: 1, memoryMb: 100, walltimeS: 600 },
  }),
});

after(async () => {
  await Promise.all([wide.stop(), narrow.stop()]);
  pki.cleanup();
});

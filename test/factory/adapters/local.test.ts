import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createLocalAdapter } from "../../../src/factory/adapters/local/local-adapter.js";
import { runConformance } from "./conformance.js";

const scripts = mkdtempSync(join(tmpdir(), "updraft-local-scripts-"));

runConformance({
  name: "local",
  create: (stateDir, slots) =>
    createLocalAdapter(
      { slots, kill_grace_s: 1 },
      { stateDir, logger: pino({ level: "silent" }), now: () => Date.now() },
    ),
  spec(intentId, script) {
    const file = join(scripts, `pilot-${intentId}-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    return {
      intentId,
      command: file,
      args: [],
      env: {},
      resources: { cpus: 1, memoryMb: 100, walltimeS: 60 },
    };
  },
  broken: (intentId) => ({
    intentId,
    command: join(scripts, "does-not-exist"),
    args: [],
    env: {},
    resources: { cpus: 1, memoryMb: 100, walltimeS: 60 },
  }),
});

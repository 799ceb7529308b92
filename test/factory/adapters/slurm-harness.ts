/**
 * The conformance harness for the `slurm` adapter against a real Slurm (test/helpers/slurm-peer.ts),
 * local or through SSH. One pilot slot is one whole node (2 CPUs); otherwise a pilot asks for 1.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createSlurmAdapter } from "../../../src/factory/adapters/slurm/slurm-adapter.js";
import type { PilotSpec } from "../../../src/factory/adapters/types.js";
import type { SlurmPeer } from "../../helpers/slurm-peer.js";
import type { ConformanceHarness } from "./conformance.js";

/**
 * Every adapter instance of the suite shares one Slurm node, where the local adapter's instances
 * each have their own slots: a new instance starts once earlier tests' jobs have left the node,
 * so "pilots beyond the slot limit wait" is about this instance's pilots only.
 */
function waitForIdleNode(peer: SlurmPeer): void {
  const end = Date.now() + 30_000;
  // Jobs that can never start (the suite's broken pilot) do not count.
  const busy = (): boolean =>
    peer
      .cmd("squeue", ["-h", "-t", "PD,R,CG,CF,S", "-o", "%T %r"])
      .split("\n")
      .some((l) => l.trim() !== "" && l.trim() !== "PENDING PartitionConfig");
  while (busy()) {
    if (Date.now() > end) throw new Error("the Slurm node still has jobs after 30 s");
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

export function slurmHarness(
  name: string,
  peer: SlurmPeer,
  settings: (slots: number) => Record<string, unknown>,
): ConformanceHarness & { scripts: string } {
  const scripts = mkdtempSync(join(tmpdir(), "updraft-slurm-scripts-"));
  const spec = (intentId: number, command: string, cpus = 1): PilotSpec => ({
    intentId,
    command,
    args: [],
    env: {},
    resources: { cpus, memoryMb: 100, walltimeS: 300 },
  });
  return {
    name,
    scripts,
    timeoutMs: 60_000,
    // Slurm starts a job at its next scheduling pass, seconds after the slot frees.
    stateTimeoutMs: 30_000,
    create: (stateDir, slots) => {
      waitForIdleNode(peer);
      return createSlurmAdapter(settings(slots), {
        stateDir,
        logger: pino({ level: "silent" }),
        now: () => Date.now(),
      });
    },
    spec(intentId, script) {
      const file = join(scripts, `pilot-${intentId}-${Math.random().toString(36).slice(2)}.sh`);
      writeFileSync(file, `#!/bin/sh\n${script}\n`);
      chmodSync(file, 0o755);
      return spec(intentId, file);
    },
    // More CPUs than the node has: Slurm accepts the job and never starts it (PartitionConfig).
    broken: (intentId) => spec(intentId, "/bin/true", 64),
  };
}

/** One slot = a pilot takes the whole 2-CPU node; more slots = 1 CPU each. */
export function slotSettings(slots: number): Record<string, unknown> {
  return slots === 1 ? { cpus: 2 } : {};
}

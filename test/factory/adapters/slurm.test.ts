/** The `slurm` adapter, commands run locally, against a real Slurm started for this file. */
import { rmSync } from "node:fs";
import { after } from "node:test";
import { startSlurm } from "../../helpers/slurm-peer.js";
import { runConformance } from "./conformance.js";
import { slotSettings, slurmHarness } from "./slurm-harness.js";

const peer = await startSlurm();

const harness = slurmHarness("slurm", peer, (slots) => ({
  slurm_conf: peer.conf,
  settle_s: 10,
  ...slotSettings(slots),
}));
runConformance(harness);

// Registered after the suite's own hook, so the suite cleans up while Slurm still answers.
after(async () => {
  await peer.stop();
  rmSync(harness.scripts, { recursive: true, force: true });
});

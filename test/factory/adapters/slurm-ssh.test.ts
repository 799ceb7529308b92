/**
 * The `slurm` adapter through SSH (BOSCO style): the same conformance suite, with every Slurm
 * command and pilot file going through a real sshd on loopback to a real Slurm.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { startSlurm } from "../../helpers/slurm-peer.js";
import { startSshd } from "../../helpers/sshd-peer.js";
import { runConformance } from "./conformance.js";
import { slotSettings, slurmHarness } from "./slurm-harness.js";

const peer = await startSlurm();
const sshd = await startSshd().catch(async (err: unknown) => {
  await peer.stop();
  throw err;
});
const remote = mkdtempSync(join(tmpdir(), "updraft-slurm-remote-"));

const harness = slurmHarness("slurm-ssh", peer, (slots) => ({
  slurm_conf: peer.conf,
  ssh: {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identity_file: sshd.identityFile,
    known_hosts_file: sshd.knownHostsFile,
    remote_dir: remote,
  },
  ...slotSettings(slots),
}));
runConformance(harness);

after(async () => {
  await peer.stop();
  await sshd.stop();
  rmSync(remote, { recursive: true, force: true });
  rmSync(harness.scripts, { recursive: true, force: true });
});

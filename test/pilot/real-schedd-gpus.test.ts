/**
 * A multi-GPU pilot gives each job its own GPUs. The node's GPU inventory is a fake (this machine
 * has no GPU): an `nvidia-smi` stub, or a `rocm-smi` stub printing the JSON ROCm's rocm_smi.py
 * writes (`cardN` objects with `Card Series` and `VRAM Total Memory (B)`), on the fixture's PATH
 * listing four devices, which the pilot's real detection reads. Against a real schedd and
 * collector, two jobs asking two GPUs each and one asking none run at once; each sees its own
 * devices in HTCondor's variables, its dynamic slot names them, and the job without GPUs sees
 * none.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings } from "../../src/pilot/settings.js";
import { startPilotCollector } from "../helpers/pilot-collector.js";
import { job, startEnv, submit } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";
import { pilotCredentialFile } from "./pilot-credential.js";

/** Hang guard only: every wait below ends far sooner when things work. */
const GUARD_MS = 90_000;

const FAKE_NVIDIA_SMI = [0, 1, 2, 3].map((i) => `echo "${i}, NVIDIA A100, 8.0, 40960"`).join("\n");

const ROCM_SMI_JSON = JSON.stringify(
  Object.fromEntries(
    [0, 1, 2, 3].map((i) => [
      `card${i}`,
      { "Card Series": "AMD Instinct MI250X", "VRAM Total Memory (B)": "68702699520" },
    ]),
  ),
);

/** What each vendor's pilot sees: its stub, the job's device variable and its name prefix. */
const VENDORS = {
  nvidia: {
    smi: "nvidia-smi",
    stub: FAKE_NVIDIA_SMI,
    visible: "CUDA_VISIBLE_DEVICES",
    prefix: "CUDA",
  },
  amd: {
    smi: "rocm-smi",
    stub: `echo '${ROCM_SMI_JSON}'`,
    visible: "HIP_VISIBLE_DEVICES",
    prefix: "GPU",
  },
} as const;

test("jobs in a four-GPU pilot each get their own GPUs, named on their dynamic slots", async (t) => {
  await runFourGpuPilot(t, VENDORS.nvidia);
});

test("the same with AMD GPUs found through rocm-smi: GPU<n> names and HIP_VISIBLE_DEVICES", async (t) => {
  await runFourGpuPilot(t, VENDORS.amd);
});

async function runFourGpuPilot(
  t: TestContext,
  vendor: (typeof VENDORS)[keyof typeof VENDORS],
): Promise<void> {
  const env = await startEnv();
  t.after(() => env.close());
  const { collector, reader } = await startPilotCollector(env, t);
  const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-gpus-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credentialFile = pilotCredentialFile(env, dir);

  // Each job writes what it sees, then stays a while so that all three run at once.
  const script = `echo "\${_CONDOR_AssignedGPUs:-none} $${vendor.visible} $GPU_DEVICE_ORDINAL" > gpus.txt; sleep 4`;
  const gpuJob = (gpus: number) =>
    job({
      TransferExecutable: "false",
      Cmd: '"/bin/sh"',
      Arguments: JSON.stringify(`-c '${script}'`),
      // A user's own setting is overridden by the pilot's assignment.
      Environment: `"${vendor.visible}=0,1,2,3"`,
      TransferOutput: '"gpus.txt"',
      RequestMemory: "64",
      RequestGPUs: String(gpus),
      Requirements:
        "TARGET.Cpus >= RequestCpus && TARGET.Memory >= RequestMemory && TARGET.GPUs >= RequestGPUs",
    });
  const alice = env.client("alice");
  const cluster = await submit(alice, [gpuJob(2), gpuJob(2), gpuJob(0)]);
  const ids = [0, 1, 2].map((p) => `${cluster}.${p}`);

  const node = createNodeFixture();
  t.after(() => node.cleanup());
  node.stub(vendor.smi, vendor.stub);
  const r = resolveSettings(
    {
      pilotId: "pilot-gputest",
      workDir: join(dir, "work"),
      collector: collector.url,
      schedd: [env.schedd.url()],
      credential: credentialFile,
      trustDir: env.pki.caDir,
      maxWalltime: 3600,
      maxIdle: 3,
      grace: 5,
    },
    {},
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));
  let output = "";
  const run = runPilotProcess(r.settings, { view: node.view(), write: (s) => (output += s) });

  // While the jobs run: each dynamic slot's AssignedGPUs by job, and the most jobs seen at once.
  const slotGpus = new Map<string, string>();
  let mostAtOnce = 0;
  let stopped = false;
  const watching = (async () => {
    while (!stopped) {
      const ads = await reader.query({ type: "Slot" }).catch(() => []);
      const dyn = ads.filter((a) => a.SlotType === '"Dynamic"');
      mostAtOnce = Math.max(mostAtOnce, dyn.length);
      for (const a of dyn) slotGpus.set(JSON.parse(a.JobId!), a.AssignedGPUs ?? "none");
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  let guard: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    run,
    new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error(`pilot run: no result; ${output}`)), GUARD_MS);
    }),
  ]).finally(() => clearTimeout(guard));
  stopped = true;
  await watching;
  assert.equal(code, 0, output);

  const seen: string[] = [];
  for (const id of ids) {
    const [j] = await alice.query({ ids: [id], history: true });
    assert.equal(j?.JobStatus, "4", `${id} completed: ${output}`);
    const chunks: Uint8Array[] = [];
    for await (const c of alice.fetchOutput(id)) chunks.push(c.data);
    seen.push(Buffer.concat(chunks).toString().trim());
  }
  const [a, b, none] = seen;
  assert.equal(none, "none 10000 10000", "the job without GPUs sees no device");
  const devices = [a!, b!].map((line) => {
    const [names, visible, ordinal] = line.split(" ");
    assert.equal(visible, ordinal, line);
    assert.equal(
      names,
      visible!
        .split(",")
        .map((i) => `${vendor.prefix}${i}`)
        .join(","),
      line,
    );
    return names!.split(",");
  });
  assert.equal(devices[0]!.length, 2);
  assert.equal(devices[1]!.length, 2);
  assert.deepEqual(
    [...devices[0]!, ...devices[1]!].sort(),
    [0, 1, 2, 3].map((i) => `${vendor.prefix}${i}`),
    "two GPUs each, none shared",
  );
  assert.equal(mostAtOnce, 3, "the three jobs ran at once");
  assert.equal(slotGpus.get(ids[0]!), JSON.stringify(devices[0]!.join(",")));
  assert.equal(slotGpus.get(ids[1]!), JSON.stringify(devices[1]!.join(",")));
  assert.equal(slotGpus.get(ids[2]!), "none", "no AssignedGPUs on the GPU-less job's slot");
}

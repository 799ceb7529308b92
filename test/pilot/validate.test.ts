import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { runValidation } from "../../src/pilot/validate/index.js";
import { createTestPki } from "../helpers/pki.js";
import { createNodeFixture } from "./node-fixture.js";

const fixtures: { cleanup(): void }[] = [];
after(() => fixtures.forEach((f) => f.cleanup()));
function fixture() {
  const f = createNodeFixture();
  fixtures.push(f);
  return f;
}

test("a plain node passes and publishes its attributes", async () => {
  const f = fixture();
  const r = await runValidation(f.view(), {});
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  assert.equal(r.attrs.OpSysAndVer, "AlmaLinux9");
  assert.equal(r.attrs.OpSysMajorVer, 9);
  assert.equal(r.attrs.OpSysVer, 904);
  assert.equal(r.attrs.OpSys, "LINUX");
  assert.equal(r.attrs.Arch, "X86_64");
  assert.equal(r.attrs.GPUs, 0);
  assert.equal(r.attrs.HAS_SINGULARITY, false);
  assert.deepEqual(
    [r.resources?.cpus, r.resources?.memoryMb, r.resources?.gpus],
    [16, 32 * 1024, 0],
  );
  assert.ok((r.resources?.diskKb ?? 0) > 0);
  assert.ok(!r.checks.some((c) => c.name === "network"), "no URLs, no network check");
});

test("Debian and unknown os-release", async () => {
  const f = fixture();
  f.osRelease('ID=debian\nVERSION_ID="12"\n');
  assert.equal((await runValidation(f.view(), {})).attrs.OpSysAndVer, "Debian12");
  f.osRelease("NAME=whatever\n");
  const r = await runValidation(f.view(), {});
  assert.equal(r.failure?.class, "WN_Resource");
  assert.match(r.failure?.message ?? "", /os-release/);
});

test("CPUs and memory: Slurm, OMP, cgroup v2 and v1, node", async () => {
  const f = fixture();
  const cpus = async (env: Record<string, string> = {}) =>
    (await runValidation(f.view(env), {})).resources;
  assert.equal((await cpus({ SLURM_CPUS_ON_NODE: "4", SLURM_MEM_PER_NODE: "8000" }))?.cpus, 4);
  assert.equal(
    (await cpus({ SLURM_CPUS_ON_NODE: "4", SLURM_MEM_PER_NODE: "8000" }))?.memoryMb,
    8000,
  );
  assert.equal((await cpus({ SLURM_CPUS_ON_NODE: "2", SLURM_MEM_PER_CPU: "2G" }))?.memoryMb, 4096);
  assert.equal((await cpus({ OMP_NUM_THREADS: "3" }))?.cpus, 3);
  f.cgroupFile("cpu/cpu.cfs_quota_us", "250000\n");
  f.cgroupFile("cpu/cpu.cfs_period_us", "100000\n");
  f.cgroupFile("memory/memory.limit_in_bytes", String(6 * 1024 ** 3));
  assert.deepEqual([(await cpus())?.cpus, (await cpus())?.memoryMb], [3, 6144]);
  f.cgroupFile("cpu.max", "200000 100000\n");
  f.cgroupFile("memory.max", String(2 * 1024 ** 3));
  assert.deepEqual([(await cpus())?.cpus, (await cpus())?.memoryMb], [2, 2048]);
  f.cgroupFile("cpu.max", "max 100000\n");
  f.cgroupFile("memory.max", "max\n");
  f.cgroupFile("cpu/cpu.cfs_quota_us", "-1\n");
  f.cgroupFile("memory/memory.limit_in_bytes", "9223372036854771712\n");
  assert.deepEqual([(await cpus())?.cpus, (await cpus())?.memoryMb], [16, 32768]);
  const r = await runValidation(f.view(), { minMemoryMb: 64 * 1024 });
  assert.equal(r.failure?.class, "WN_Resource");
});

test("the entry's GLIDEIN_CPUS and GLIDEIN_MaxMemMBs win over detection, within the node", async () => {
  const f = fixture();
  const res = async (env: Record<string, string>) =>
    (await runValidation(f.view(env), {})).resources;
  const slurm = { SLURM_CPUS_ON_NODE: "8", SLURM_MEM_PER_NODE: "16000" };
  assert.deepEqual(
    [
      (await res({ ...slurm, GLIDEIN_CPUS: "2", GLIDEIN_MaxMemMBs: "3000" }))?.cpus,
      (await res({ ...slurm, GLIDEIN_CPUS: "2", GLIDEIN_MaxMemMBs: "3000" }))?.memoryMb,
    ],
    [2, 3000],
  );
  assert.equal((await res({ ...slurm, GLIDEIN_CPUS: "auto" }))?.cpus, 8);
  assert.equal((await res({ ...slurm, GLIDEIN_CPUS: "node" }))?.cpus, 16);
  // Never more than the node has (16 CPUs, 32 GB in the fixture).
  assert.equal((await res({ GLIDEIN_CPUS: "64" }))?.cpus, 16);
  assert.equal((await res({ GLIDEIN_MaxMemMBs: "999999" }))?.memoryMb, 32 * 1024);
  const bad = await runValidation(f.view({ GLIDEIN_CPUS: "lots" }), {});
  assert.equal(bad.failure?.class, "Config");
  assert.match(bad.failure?.message ?? "", /GLIDEIN_CPUS=lots/);
});

test("GLIDEIN_GPUS is what the slot offers; nvidia-smi's count stays in DetectedGPUs", async () => {
  const f = fixture();
  const r = await runValidation(f.view({ GLIDEIN_GPUS: "1" }), {});
  assert.equal(r.resources?.gpus, 1);
  assert.equal(r.attrs.DetectedGPUs, 0);
  assert.equal((await runValidation(f.view({ GLIDEIN_GPUS: "auto" }), {})).resources?.gpus, 0);
  const bad = await runValidation(f.view({ GLIDEIN_GPUS: "one" }), {});
  assert.equal(bad.failure?.class, "Config");
});

test("disk below MIN_DISK_GBS is a WN_Resource failure", async () => {
  const f = fixture();
  const r = await runValidation(f.view(), { minDiskGb: 1e9 });
  assert.equal(r.ok, false);
  assert.equal(r.failure?.class, "WN_Resource");
  assert.match(r.failure?.message ?? "", /MIN_DISK_GBS is 1000000000/);
});

test("GPUs from a stub nvidia-smi, narrowed by CUDA_VISIBLE_DEVICES", async () => {
  const f = fixture();
  f.stub(
    "nvidia-smi",
    'echo "0, NVIDIA A100-SXM4-40GB, 8.0, 40960"\necho "1, Tesla V100, 7.0, 16160"',
  );
  const r = await runValidation(f.view(), {});
  assert.deepEqual([r.attrs.GPUs, r.attrs.CUDACapability, r.resources?.gpus], [2, 7.0, 2]);
  assert.equal(r.attrs.AssignedGPUs, "CUDA0,CUDA1", "the devices the pilot hands to its jobs");
  const one = await runValidation(f.view({ CUDA_VISIBLE_DEVICES: "1" }), {});
  assert.deepEqual([one.attrs.GPUs, one.attrs.CUDACapability], [1, 7.0]);
  assert.equal(one.attrs.AssignedGPUs, "CUDA1", "named by nvidia-smi's (physical) index");
  const granted = await runValidation(f.view({ GLIDEIN_GPUS: "1" }), {});
  assert.equal(granted.attrs.AssignedGPUs, "CUDA0", "no more devices than the site granted");
  const none = await runValidation(f.view({ GLIDEIN_GPUS: "0" }), {});
  assert.equal(none.attrs.AssignedGPUs, undefined);
  f.stub("nvidia-smi", "echo 'NVIDIA-SMI has failed' >&2; exit 9");
  assert.equal((await runValidation(f.view(), {})).attrs.GPUs, 0);
});

/** What rocm-smi --showproductname --showmeminfo vram --json prints for two MI250X dies. */
const ROCM_SMI_JSON = JSON.stringify({
  card0: {
    "Card Series": "AMD Instinct MI250X",
    "Card Model": "0x740c",
    "Card Vendor": "Advanced Micro Devices, Inc. [AMD/ATI]",
    "VRAM Total Memory (B)": "68702699520",
    "VRAM Total Used Memory (B)": "10993664",
  },
  card1: { "Card series": "AMD Instinct MI250X", "VRAM Total Memory (B)": "34351349760" },
  system: { "Driver version": "6.7.0" },
});

test("AMD GPUs from a fake rocm-smi, named GPU<n> as HTCondor names HIP devices", async () => {
  const f = fixture();
  // A fake rocm-smi, as this machine has no AMD GPU: it prints what the real one does.
  f.stub("rocm-smi", `echo '${ROCM_SMI_JSON}'`);
  const r = await runValidation(f.view(), {});
  assert.deepEqual([r.attrs.GPUs, r.attrs.DetectedGPUs, r.resources?.gpus], [2, 2, 2]);
  assert.equal(r.attrs.AssignedGPUs, "GPU0,GPU1");
  assert.equal(r.attrs.GPUs_DeviceName, "AMD Instinct MI250X");
  assert.equal(r.attrs.GPUs_GlobalMemoryMb, 32760, "the smallest device's memory");
  assert.equal(r.attrs.CUDACapability, undefined, "no CUDA on an AMD device");
  const rocr = await runValidation(f.view({ ROCR_VISIBLE_DEVICES: "1" }), {});
  assert.equal(rocr.attrs.AssignedGPUs, "GPU1", "named by its card index");
  const hip = await runValidation(
    f.view({ ROCR_VISIBLE_DEVICES: "0,1", HIP_VISIBLE_DEVICES: "1" }),
    {},
  );
  assert.equal(hip.attrs.AssignedGPUs, "GPU1", "HIP_VISIBLE_DEVICES picks among ROCR's");
  // NVIDIA first, as condor_gpu_discovery: a node with both tools shows its CUDA devices.
  f.stub("nvidia-smi", 'echo "0, Tesla V100, 7.0, 16160"');
  assert.equal((await runValidation(f.view(), {})).attrs.AssignedGPUs, "CUDA0");
  // An nvidia-smi that finds nothing leaves the AMD devices.
  f.stub("nvidia-smi", "echo 'NVIDIA-SMI has failed' >&2; exit 9");
  assert.equal((await runValidation(f.view(), {})).attrs.AssignedGPUs, "GPU0,GPU1");
  for (const junk of ["not json", "[]", '{"card0": 7, "cardX": {}}', "null"]) {
    f.stub("rocm-smi", `echo '${junk}'`);
    assert.equal((await runValidation(f.view(), {})).attrs.GPUs, 0, junk);
  }
});

test("CVMFS repositories and apptainer", async () => {
  const f = fixture();
  f.cvmfsRepo("oasis.opensciencegrid.org");
  f.stub("apptainer", 'echo "apptainer version 1.3.4"');
  const s = { cvmfsRepos: ["oasis.opensciencegrid.org", "cms.cern.ch"] };
  const r = await runValidation(f.view(), s);
  assert.equal(r.ok, true);
  assert.equal(r.attrs.HAS_CVMFS_oasis_opensciencegrid_org, true);
  assert.equal(r.attrs.HAS_CVMFS_cms_cern_ch, false);
  assert.equal(r.attrs.HAS_SINGULARITY, true);
  assert.equal(r.attrs.SINGULARITY_VERSION, "apptainer version 1.3.4");
  const req = await runValidation(f.view(), { ...s, cvmfsRequired: true });
  assert.equal(req.failure?.class, "WN_Resource");
  assert.match(req.failure?.message ?? "", /cms\.cern\.ch/);
});

test("a credential shorter than the pilot's lifetime is a VO_Proxy failure", async () => {
  const f = fixture();
  const pki = createTestPki();
  fixtures.push(pki);
  const proxy = pki.proxyOf(pki.user, { hours: 2 });
  const ok = await runValidation(f.view(), { credentialFile: proxy.file, credentialMinS: 3600 });
  assert.equal(ok.ok, true, JSON.stringify(ok.failure));
  assert.equal(ok.attrs.GLIDEIN_Credential_Identity, pki.user.subject);
  const short = await runValidation(f.view(), {
    credentialFile: proxy.file,
    credentialMinS: 3 * 3600,
  });
  assert.equal(short.failure?.class, "VO_Proxy");
  assert.ok(!short.failure?.message.includes("BEGIN"), "never the credential's contents");
  const missing = await runValidation(f.view(), { credentialFile: join(f.dir, "nope.pem") });
  assert.equal(missing.failure?.class, "VO_Proxy");
  // A token-shaped file that is no token (no readable claims, no exp) is refused the same way.
  const notToken = join(f.dir, "not.token");
  writeFileSync(notToken, "abc.def.ghi\n");
  const bad = await runValidation(f.view(), { credentialFile: notToken });
  assert.equal(bad.failure?.class, "VO_Proxy");
  assert.equal(bad.failure?.message, `credential ${notToken} holds no usable certificate or token`);
});

test("network: a listening port passes, a closed one is a Network failure", async () => {
  const f = fixture();
  const srv = createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  try {
    const ok = await runValidation(f.view(), { urls: [`wss://127.0.0.1:${port}`] });
    assert.equal(ok.ok, true);
    const bad = await runValidation(f.view(), {
      urls: [`wss://127.0.0.1:${port}`, `wss://127.0.0.1:${closedPort}`],
      connectTimeoutMs: 1000,
    });
    assert.equal(bad.failure?.class, "Network");
    assert.match(bad.failure?.message ?? "", new RegExp(`${closedPort}`));
    // A collector pair: one of the two up is enough; both down is a Network failure.
    const pair = await runValidation(f.view(), {
      urlsOneOf: [[`wss://127.0.0.1:${closedPort}`, `wss://127.0.0.1:${port}`]],
      connectTimeoutMs: 1000,
    });
    assert.equal(pair.ok, true);
    const none = await runValidation(f.view(), {
      urlsOneOf: [[`wss://127.0.0.1:${closedPort}`, `wss://127.0.0.1:${closedPort}/b`]],
      connectTimeoutMs: 1000,
    });
    assert.equal(none.failure?.class, "Network");
  } finally {
    srv.close();
  }
});

test("site and VO scripts: attributes, classes, timeouts, order", async () => {
  const f = fixture();
  const script = (name: string, body: string) => {
    const p = join(f.dir, name);
    writeFileSync(p, body);
    return p;
  };
  const a = script(
    "a.sh",
    `echo noise\necho '{"status":"OK","attrs":{"SITE_SCRATCH":"lustre","N":3}}'`,
  );
  const b = script("b.sh", `case "$UPDRAFT_PILOT_ATTRS" in *lustre*) exit 0 ;; esac\nexit 1`);
  const r = await runValidation(f.view(), {
    scripts: [
      { path: a, kind: "site" },
      { path: b, kind: "vo" },
    ],
  });
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  assert.deepEqual([r.attrs.SITE_SCRATCH, r.attrs.N], ["lustre", 3]);
  const err = script(
    "e.sh",
    `echo '{"status":"ERROR","class":"VO_Config","message":"no VO software"}'`,
  );
  const plain = script("p.sh", "echo 'disk dying' >&2; exit 2");
  const slow = script("s.sh", "exec /bin/sleep 10");
  const run = async (path: string, kind: "site" | "vo") =>
    (await runValidation(f.view(), { scripts: [{ path, kind }], scriptTimeoutMs: 300 })).failure;
  assert.deepEqual(await run(err, "site"), {
    class: "VO_Config",
    message: `${err}: no VO software`,
  });
  assert.deepEqual(await run(plain, "site"), {
    class: "WN_Resource",
    message: `${plain}: disk dying`,
  });
  assert.equal((await run(plain, "vo"))?.class, "VO_Config");
  assert.match((await run(slow, "vo"))?.message ?? "", /timed out after 300 ms/);
});

/**
 * GPUs from nvidia-smi when it is on PATH, else AMD GPUs from ROCm's rocm-smi (condor_gpu_discovery
 * also tries NVIDIA first, then HIP); neither, or tools that fail, means no usable GPU.
 * CUDA_VISIBLE_DEVICES narrows nvidia-smi's list to what the batch system assigned us;
 * ROCR_VISIBLE_DEVICES (card indices) then HIP_VISIBLE_DEVICES (positions among those) narrow
 * rocm-smi's. An entry's
 * GLIDEIN_GPUS, when a number, is what the site granted and is what the slot offers
 * (`DetectedGPUs` still says what nvidia-smi saw). `AssignedGPUs` names the devices the pilot
 * hands to its jobs (`CUDA0,CUDA1`, see gpu-assignment.ts), as many as the slot offers.
 */
import { NODE, SLOT } from "../../ads/names.js";
import { type Attrs, fail, pass, type CheckResult } from "../failure.js";
import { gpuNamesFromIndices } from "../gpu-assignment.js";
import { parseRocmSmi, visibleAmdGpus } from "./rocm-smi.js";
import type { NodeView } from "./node-view.js";

export interface GpuInfo {
  index: number;
  name: string;
  computeCap: number;
  memoryMb: number;
}

export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split("\n")) {
    const f = line.split(",").map((x) => x.trim());
    if (f.length < 4 || !/^\d+$/.test(f[0]!)) continue;
    gpus.push({
      index: Number(f[0]),
      name: f[1]!,
      computeCap: Number(f[2]) || 0,
      memoryMb: Number(f[3]) || 0,
    });
  }
  return gpus;
}

export async function checkGpus(view: NodeView): Promise<CheckResult> {
  const granted = view.env.GLIDEIN_GPUS?.trim();
  const detected = await detectGpus(view);
  if (!granted || /^(auto|slot|node)$/i.test(granted) || !detected.ok) return detected;
  if (!/^\d+$/.test(granted)) {
    return fail("Config", `GLIDEIN_GPUS=${granted} is not a number, auto, slot or node`);
  }
  const n = Number(granted);
  const names = String(detected.attrs.AssignedGPUs ?? "")
    .split(",")
    .filter(Boolean);
  const attrs: Attrs = { ...detected.attrs, [SLOT.GPUs]: n, [NODE.GpusSource]: "GLIDEIN_GPUS" };
  if (names.length > 0) attrs.AssignedGPUs = names.slice(0, n).join(",");
  if (n === 0 || names.length === 0) delete attrs.AssignedGPUs;
  return pass(attrs);
}

async function detectGpus(view: NodeView): Promise<CheckResult> {
  const smi = view.which("nvidia-smi");
  if (!smi) return detectAmdGpus(view);
  const r = await view.run(
    smi,
    ["--query-gpu=index,name,compute_cap,memory.total", "--format=csv,noheader,nounits"],
    10_000,
  );
  let gpus = r.code === 0 ? parseNvidiaSmi(r.stdout) : [];
  const visible = view.env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && /^[\d,\s]*$/.test(visible)) {
    const allowed = new Set(visible.split(",").filter(Boolean).map(Number));
    gpus = gpus.filter((g) => allowed.has(g.index));
  }
  if (gpus.length === 0) return detectAmdGpus(view);
  return pass({
    [SLOT.GPUs]: gpus.length,
    [NODE.DetectedGPUs]: gpus.length,
    [SLOT.AssignedGPUs]: gpuNamesFromIndices(gpus.map((g) => g.index)).join(","),
    // The weakest device decides what a job can rely on.
    CUDACapability: Math.min(...gpus.map((g) => g.computeCap)),
    GPUs_DeviceName: gpus[0]!.name,
    GPUs_GlobalMemoryMb: Math.min(...gpus.map((g) => g.memoryMb)),
  });
}

async function detectAmdGpus(view: NodeView): Promise<CheckResult> {
  const smi = view.which("rocm-smi");
  if (!smi) return pass({ [SLOT.GPUs]: 0, [NODE.DetectedGPUs]: 0 });
  const r = await view.run(smi, ["--showproductname", "--showmeminfo", "vram", "--json"], 10_000);
  const all = r.code === 0 ? parseRocmSmi(r.stdout) : [];
  const gpus = visibleAmdGpus(all, view.env.ROCR_VISIBLE_DEVICES, view.env.HIP_VISIBLE_DEVICES);
  if (gpus.length === 0) return pass({ [SLOT.GPUs]: 0, [NODE.DetectedGPUs]: 0 });
  return pass({
    [SLOT.GPUs]: gpus.length,
    [NODE.DetectedGPUs]: gpus.length,
    [SLOT.AssignedGPUs]: gpuNamesFromIndices(
      gpus.map((g) => g.index),
      "amd",
    ).join(","),
    GPUs_DeviceName: gpus[0]!.name,
    GPUs_GlobalMemoryMb: Math.min(...gpus.map((g) => g.memoryMb)),
  });
}

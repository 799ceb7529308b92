/**
 * AMD GPUs as ROCm's rocm-smi lists them (`--showproductname --showmeminfo vram --json`): one
 * `cardN` object per device, N its index. Pure; the output is the node's, so anything odd in it
 * is skipped rather than trusted.
 */
import type { GpuInfo } from "./check-gpus.js";

/** More devices than any node has: the rest are not read. */
const MAX_DEVICES = 64;

export function parseRocmSmi(json: string): GpuInfo[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return [];
  }
  if (typeof doc !== "object" || doc === null) return [];
  const gpus: GpuInfo[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const card = /^card(\d{1,3})$/.exec(key);
    if (!card || typeof value !== "object" || value === null) continue;
    // Key spellings changed across ROCm releases ("Card series", "Card Series").
    const field = (name: RegExp): string | undefined => {
      const hit = Object.entries(value).find(([k, v]) => name.test(k) && typeof v === "string");
      return hit === undefined ? undefined : (hit[1] as string);
    };
    const name = field(/^card series$/i) ?? field(/^card model$/i) ?? "AMD GPU";
    const vram = Number(field(/^vram total memory \(b\)$/i));
    gpus.push({
      index: Number(card[1]),
      name: name.replace(/[^\x20-\x7e]/g, "").slice(0, 200),
      computeCap: 0,
      memoryMb: Number.isFinite(vram) && vram > 0 ? Math.floor(vram / 2 ** 20) : 0,
    });
    if (gpus.length >= MAX_DEVICES) break;
  }
  return gpus.sort((a, b) => a.index - b.index);
}

const indexList = (v: string | undefined) =>
  v !== undefined && /^[\d,\s]*$/.test(v)
    ? v
        .split(",")
        .filter((x) => x.trim() !== "")
        .map(Number)
    : undefined;

/**
 * The devices the batch system left us: ROCR_VISIBLE_DEVICES names card indices, and
 * HIP_VISIBLE_DEVICES picks among those by position, as the ROCm runtime applies them.
 */
export function visibleAmdGpus(
  gpus: readonly GpuInfo[],
  rocr: string | undefined,
  hip: string | undefined,
): GpuInfo[] {
  let out = [...gpus];
  const rocrList = indexList(rocr);
  if (rocrList !== undefined) out = out.filter((g) => rocrList.includes(g.index));
  const hipList = indexList(hip);
  if (hipList !== undefined) out = out.filter((_, i) => hipList.includes(i));
  return out;
}

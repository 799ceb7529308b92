/** gridtype -> adapter constructor. New adapters add one line here. */
import { createArcAdapter } from "./arc/arc-adapter.js";
import { createLocalAdapter } from "./local/local-adapter.js";
import { createSlurmAdapter } from "./slurm/slurm-adapter.js";
import type { AdapterFactory } from "./types.js";

export type AdapterRegistry = ReadonlyMap<string, AdapterFactory>;

export function defaultAdapterRegistry(): AdapterRegistry {
  return new Map<string, AdapterFactory>([
    ["local", createLocalAdapter],
    ["arc", createArcAdapter],
    ["slurm", createSlurmAdapter],
  ]);
}

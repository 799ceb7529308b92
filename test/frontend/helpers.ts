/** Shared builders for the frontend tests: limits with overrides, entry demand, tiny pools. */
import {
  groupLimitsSchema,
  parseFrontendConfig,
  type GroupLimits,
} from "../../src/frontend/config.js";
import type { EntryDemand, GroupTotals } from "../../src/frontend/request-rules.js";
import type { Snapshot, SnapshotInput } from "../../src/frontend/snapshot.js";
import { snapshotSchema } from "../../src/frontend/snapshot.js";

/** Limits with nothing in the way (huge maxima, curbs unreachable) unless overridden. */
export function limits(overrides: Record<string, unknown> = {}): GroupLimits {
  const big = { max: 1_000_000, curb: 1_000_000 };
  return groupLimitsSchema.parse({
    running_glideins_per_entry: big,
    running_glideins_total: big,
    idle_glideins_per_entry: big,
    idle_glideins_total: big,
    idle_vms_per_entry: big,
    idle_vms_total: big,
    ramp_up_attenuation: 1,
    relative_to_queue: 1,
    ...overrides,
  });
}

export function demand(overrides: Partial<EntryDemand> = {}): EntryDemand {
  return {
    inDowntime: false,
    prop: 0,
    propMc: 0,
    usableIdlePilots: 0,
    idleSlots: 0,
    runningSlots: 0,
    pilots: 0,
    queuedIdle: 0,
    ...overrides,
  };
}

export function totals(overrides: Partial<GroupTotals> = {}): GroupTotals {
  return { pilots: 0, idleSlots: 0, queuedIdle: 0, ...overrides };
}

export function snapshot(input: SnapshotInput): Snapshot {
  return snapshotSchema.parse(input);
}

/** A GlideFactory ad in wire form. */
export function entryAd(
  name: string,
  attrs: Record<string, string | number | boolean> = {},
): Record<string, string> {
  const out: Record<string, string> = { Name: JSON.stringify(name) };
  for (const [k, v] of Object.entries(attrs)) {
    out[k] = typeof v === "string" ? JSON.stringify(v) : String(v);
  }
  return out;
}

export const MINIMAL_CONFIG = `
name: fe
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ file: /tmp/proxy }]
factories: [{ name: gfactory, identity: /CN=gfactory }]
groups:
  - name: main
    match_expr: stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)
`;

export function minimalConfig(extra = ""): ReturnType<typeof parseFrontendConfig> {
  return parseFrontendConfig(MINIMAL_CONFIG + extra, "test.yaml");
}

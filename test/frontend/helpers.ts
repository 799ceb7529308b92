/**
 * Shared builders for the frontend tests: limits with overrides, entry demand, tiny pools, a
 * configured pilot-token minter.
 */
import {
  groupLimitsSchema,
  parseFrontendConfig,
  type GroupLimits,
} from "../../src/frontend/config.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createPilotTokenMinter, type PilotTokenMinter } from "../../src/frontend/pilot-tokens.js";
import type { EntryDemand, GroupTotals } from "../../src/frontend/request-rules.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
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

/**
 * The pilot-token minter of frontend "fe" as its configuration makes it: a new issuer `iss` in
 * `dir`/issuer, tokens of 600 s for audience "aud", pilots of 3600 s walltime.
 */
export async function configuredTokenMinter(dir: string, iss: string): Promise<PilotTokenMinter> {
  const issuerDir = join(dir, "issuer");
  assert.ok((await initIssuerDir(issuerDir, iss)).ok);
  const config = parseFrontendConfig(
    `
name: fe
collector: { url: wss://collector.example.org:9618 }
schedds: [wss://schedd.example.org:9619]
security:
  identity: /CN=fe
  credentials: [{ type: pilot_tokens, security_class: main }]
  pilot_tokens: { dir: ${issuerDir}, lifetime_s: 600 }
factories: [{ name: f, identity: /CN=f }]
groups: [{ name: main }]
`,
    "fe.yaml",
  );
  return createPilotTokenMinter(config.security.pilot_tokens!, ["aud"], 3600);
}

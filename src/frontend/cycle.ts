/**
 * Everything one cycle decides, for every enabled group, from one snapshot: the plans and the
 * ads to advertise or withdraw. The daemon loop gathers the snapshot (with a short timeout per
 * peer), reads the credential files, calls this, and sends the ads; it holds no policy itself.
 */
import type { ClassAd } from "../classad/index.js";
import {
  adsToWithdraw,
  buildGlideClientAds,
  buildGlideResourceAds,
  factoryEntryInfo,
  type FactoryEntryInfo,
  type PendingCeToken,
  type PendingPilotTokens,
} from "./ads.js";
import { fixedScheddUrls, type FrontendConfig } from "./config.js";
import { createCredentialSealer, type CredentialSealer } from "./credential-seal.js";
import { planCycleSliced, type GroupPlan } from "./compute.js";
import { groupPolicies } from "./group-policy.js";
import type { Snapshot } from "./snapshot.js";
import { runToEnd, type Sliced } from "./slices.js";
import type { StagedVoBundle } from "./vo-bundle.js";

export interface CycleInputs {
  config: FrontendConfig;
  snapshot: Snapshot;
  /** Credential file contents by configured path. */
  credentials: ReadonlyMap<string, Buffer>;
  /** Kept across cycles so unchanged credentials keep their ciphertext (see credential-seal.ts). */
  sealer?: CredentialSealer;
  /** Each group's staged VO script bundle (see vo-staging.ts). */
  voBundles?: ReadonlyMap<string, StagedVoBundle>;
  /** Names of the GlideClient ads advertised by the previous cycle. */
  previousClientAds: Iterable<string>;
  /** Seconds since the epoch. */
  now: number;
}

export interface CycleResult {
  plans: GroupPlan[];
  glideClientAds: ClassAd[];
  glideResourceAds: ClassAd[];
  /** GlideClient ad names to invalidate at the collector. */
  withdraw: string[];
  /** Entries that are wanted but got no ad, with why. */
  skipped: { group: string; entry: string; reason: string }[];
  /** GlideClient ads (among glideClientAds) whose pilot tokens the daemon mints and seals. */
  pendingTokens: PendingPilotTokens[];
  /** GlideClient ads (among glideClientAds) that get a CE token from the daemon. */
  pendingCeTokens: PendingCeToken[];
}

export function runCycle(inputs: CycleInputs): CycleResult {
  return runToEnd(runCycleSliced(inputs));
}

/** `runCycle` yielding the steps of each match evaluation, for the daemon (see slices.ts). */
export function* runCycleSliced(inputs: CycleInputs): Sliced<CycleResult> {
  const { config, snapshot, credentials, now } = inputs;
  const sealer = inputs.sealer ?? createCredentialSealer();
  const factories = new Map<string, FactoryEntryInfo>();
  for (const ad of snapshot.factory_ads) {
    const info = factoryEntryInfo(ad);
    if (info) factories.set(info.name, info);
  }
  const result: CycleResult = {
    plans: [],
    glideClientAds: [],
    glideResourceAds: [],
    withdraw: [],
    skipped: [],
    pendingTokens: [],
    pendingCeTokens: [],
  };
  for (const policy of groupPolicies(config)) {
    const plan = yield* planCycleSliced(policy, snapshot, now, {
      autoclusterSteps: config.autocluster_step_budget,
      cycleSteps: config.cycle_step_budget,
    });
    result.plans.push(plan);
    const clients = buildGlideClientAds({
      config,
      policy,
      plan,
      factories,
      credentials,
      sealer,
      voBundle: inputs.voBundles?.get(policy.name),
      schedds: snapshot.schedds ?? fixedScheddUrls(config),
      now,
    });
    result.glideClientAds.push(...clients.ads);
    result.pendingTokens.push(...clients.pendingTokens);
    result.pendingCeTokens.push(...clients.pendingCeTokens);
    for (const s of clients.skipped) result.skipped.push({ group: policy.name, ...s });
    result.glideResourceAds.push(...buildGlideResourceAds(config, policy, plan));
  }
  result.withdraw = adsToWithdraw(inputs.previousClientAds, result.glideClientAds);
  sealer.endCycle();
  return result;
}

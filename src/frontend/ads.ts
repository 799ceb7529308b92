/**
 * The ads a cycle's plan turns into: one `GlideClient` per (group, entry) telling the factory
 * what to do (with the pilot credential encrypted so that only that factory can read it), the
 * names of `GlideClient` ads to withdraw, and one `GlideResource` per entry for monitoring.
 * Attribute names follow glideinWMS's glideclient and glideresource ads.
 */
import {
  COMMON,
  GLIDE_RESOURCE,
  GLIDEIN_PARAM,
  readGlideFactory,
  writeGlideClient,
  writeGlideResource,
} from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import { pubKeyId } from "../security/credential-crypto.js";
import {
  fixedScheddUrls,
  poolCollectorUrls,
  type CredentialConfig,
  type FrontendConfig,
} from "./config.js";
import { createCredentialSealer, type CredentialSealer } from "./credential-seal.js";
import { describeReason, type EntryPlan, type GroupPlan } from "./compute.js";
import { groupCredentials, pilotLifetimes, type GroupPolicy } from "./group-policy.js";
import { voBundleParams, voScriptLines, type StagedVoBundle } from "./vo-bundle.js";
import type { PilotBinding } from "../security/pilot-binding.js";

/** `<frontend>.<group>`: the client name factories key their per-client state on. */
export function clientName(frontend: string, group: string): string {
  return `${frontend}.${group}`;
}

/** glideinWMS's glideclient Name: `<entry ad Name>@<client name>`. */
export function glideClientName(entry: string, client: string): string {
  return `${entry}@${client}`;
}

/** What the factory said about one entry, from its GlideFactory ad. */
export interface FactoryEntryInfo {
  name: string;
  /** PEM public key the credential is encrypted to. */
  pubKeyValue?: string;
  pubKeyId?: string;
  trustDomain: string;
  /** The factory's own names for the entry and itself, and the site: what a pilot token binds. */
  entryName?: string;
  factoryName?: string;
  site?: string;
  /** GLIDEIN_Gatekeeper: its last word is the audience of the entry's CE token. */
  gatekeeper?: string;
}

export function factoryEntryInfo(ad: Readonly<Record<string, string>>): FactoryEntryInfo | null {
  const parsed = tryParse(() => ClassAd.fromJSON(ad));
  if (!parsed.ok) return null;
  const r = readGlideFactory(parsed.value);
  if (r.name === undefined) return null;
  return {
    name: r.name,
    pubKeyValue: r.pubKeyValue,
    pubKeyId: r.pubKeyId,
    trustDomain: r.trustDomain ?? "grid",
    entryName: r.entryName,
    factoryName: r.factoryName,
    site: r.site,
    ...(r.gatekeeper ? { gatekeeper: r.gatekeeper } : {}),
  };
}

/** An entry is wanted while it has jobs for it, pilots of ours, or something to remove. */
export function isWanted(plan: EntryPlan): boolean {
  return plan.jobs.count > 0 || plan.pilots.total > 0 || plan.request.removal.type !== "NO";
}

export interface GlideClientInputs {
  config: FrontendConfig;
  policy: GroupPolicy;
  plan: GroupPlan;
  /** GlideFactory ad facts by entry Name. */
  factories: ReadonlyMap<string, FactoryEntryInfo>;
  /** Credential file contents by configured file path (read at the edge). */
  credentials: ReadonlyMap<string, Buffer>;
  /** Encrypts to factory keys; the daemon keeps one across cycles (default: a new one). */
  sealer?: CredentialSealer;
  /** The group's staged VO script bundle, when it has scripts (see vo-staging.ts). */
  voBundle?: StagedVoBundle;
  /** The schedds pilots ask for jobs, in order: found this cycle, or else the configured ones. */
  schedds?: readonly string[];
  /** Seconds since the epoch: which credential a `round_robin` group sends this cycle. */
  now?: number;
}

/**
 * A GlideClient ad whose credential is a batch of per-pilot credentials, still to be minted and
 * sealed (signing is asynchronous, so the daemon does it after the pure cycle): tokens (see
 * pilot-tokens.ts) or, with `proxyIssuer`, proxies (see pilot-proxies.ts).
 */
export interface PendingPilotTokens {
  ad: ClassAd;
  binding: Omit<PilotBinding, "pilotId">;
  /**
   * `pilot_proxies`: the frontend's pilot proxy (certificate, key, chain) each pilot's proxy is
   * signed with. It stays in the frontend; only the per-pilot proxies travel.
   */
  proxyIssuer?: Buffer;
  /** Credentials to mint: one per pilot the factory may submit for this request this cycle. */
  count: number;
  /** The factory's PEM public key the batch is sealed to. */
  publicKeyPem: string;
}

/** A GlideClient ad that gets a CE token for `audience` (see ce-tokens.ts). */
export interface PendingCeToken {
  ad: ClassAd;
  entry: string;
  audience: string;
  publicKeyPem: string;
}

export interface GlideClientResult {
  ads: ClassAd[];
  /** Ads among `ads` that get a CE token, when `security.ce_tokens` is set. */
  pendingCeTokens: PendingCeToken[];
  /** Ads among `ads` whose credential the daemon still has to mint and seal. */
  pendingTokens: PendingPilotTokens[];
  /** Entries that are wanted but got no ad, and why (no key, no credential for the domain). */
  skipped: { entry: string; reason: string }[];
}

/**
 * Tokens per request: one per pilot the factory may submit this cycle (its idle request), at
 * least one so a factory topping up between cycles has one, at most `batchMax`.
 */
export function pilotTokenCount(reqIdle: number, batchMax: number): number {
  return Math.min(batchMax, Math.max(1, reqIdle));
}

/**
 * The credentials one request carries, for an entry of `trustDomain`: the first of the group's
 * (no `security`), every one (`all`, the factory splits the pilots over them, as glideinWMS's
 * ProxyAll), or one turn by turn over cycles and entries (`round_robin`).
 */
export function credentialsFor(
  config: FrontendConfig,
  policy: Pick<GroupPolicy, "credentials" | "selection">,
  trustDomain: string,
  turn: number,
): CredentialConfig[] {
  const mine = groupCredentials(config, policy).filter((c) => c.trust_domain === trustDomain);
  if (mine.length === 0) return [];
  if (policy.selection === "all") return mine;
  if (policy.selection === "round_robin") return [mine[turn % mine.length]!];
  return [mine[0]!];
}

/** The schedds a group's pilots pull from: the frontend's, narrowed to the group's list if any. */
export function groupSchedds(
  frontendSchedds: readonly string[],
  groupList: readonly string[] | undefined,
): readonly string[] {
  return groupList ? frontendSchedds.filter((url) => groupList.includes(url)) : frontendSchedds;
}

export function buildGlideClientAds(inputs: GlideClientInputs): GlideClientResult {
  const { config, policy, plan, factories, credentials } = inputs;
  const sealer = inputs.sealer ?? createCredentialSealer();
  const client = clientName(config.name, policy.name);
  const ads: ClassAd[] = [];
  const skipped: GlideClientResult["skipped"] = [];
  const pendingTokens: PendingPilotTokens[] = [];
  const pendingCeTokens: PendingCeToken[] = [];
  const turn = Math.floor((inputs.now ?? 0) / config.cycle_s);
  const lifetimes = pilotLifetimes(config, policy);
  const schedds = groupSchedds(inputs.schedds ?? fixedScheddUrls(config), policy.schedds);
  for (const [index, e] of plan.entries.entries()) {
    if (!isWanted(e)) continue;
    const factory = factories.get(e.entry);
    if (factory?.pubKeyValue === undefined) {
      skipped.push({ entry: e.entry, reason: "the factory ad has no PubKeyValue" });
      continue;
    }
    const chosen = credentialsFor(config, policy, factory.trustDomain, turn + index);
    const cred = chosen[0];
    const minted = cred?.type === "pilot_tokens" || cred?.type === "pilot_proxies";
    const files = chosen.map((c) => (c.file !== undefined ? credentials.get(c.file) : undefined));
    // The frontend's own pilot proxy signs the pilots' proxies and is never sent.
    const proxyIssuer = cred?.type === "pilot_proxies" ? files[0] : undefined;
    if (
      cred === undefined ||
      (files.some((b) => b === undefined) && !minted) ||
      (cred.type === "pilot_proxies" && proxyIssuer === undefined)
    ) {
      skipped.push({
        entry: e.entry,
        reason: `no credential for trust domain "${factory.trustDomain}"`,
      });
      continue;
    }
    let encrypted: string[];
    let identity: string;
    let keyId: string;
    try {
      encrypted = files.map((b) =>
        b === undefined || minted ? "" : sealer.seal(b, factory.pubKeyValue!),
      );
      identity = sealer.seal(config.security.identity, factory.pubKeyValue);
      keyId = pubKeyId(factory.pubKeyValue);
    } catch (err) {
      skipped.push({
        entry: e.entry,
        reason: `cannot encrypt for the factory's key: ${(err as Error).message}`,
      });
      continue;
    }
    const ad = writeGlideClient({
      name: glideClientName(e.entry, client),
      clientName: client,
      frontendName: config.name,
      groupName: policy.name,
      reqName: e.entry,
      reqGlidein: e.entry,
      reqIdleGlideins: e.request.idle,
      reqMaxGlideins: e.request.max,
      reqRemoveExcess: e.request.removal.type,
      reqRemoveExcessMargin: e.request.removal.margin,
      reqIdleLifetime: policy.limits.idle_glideins_lifetime_s,
      reqPubKeyId: keyId,
      reqEncIdentity: identity,
      encCredential: encrypted[0]!,
      ...(encrypted.length > 1 ? { moreCredentials: encrypted.slice(1) } : {}),
      credentialType: cred.type,
      securityClass: cred.security_class,
      trustDomain: cred.trust_domain,
      params: {
        [GLIDEIN_PARAM.Collector]: poolCollectorUrls(config).join(","),
        [GLIDEIN_PARAM.Schedds]: schedds.join(","),
        [GLIDEIN_PARAM.MaxWalltime]: lifetimes.max_walltime_s,
        [GLIDEIN_PARAM.RetireTime]: lifetimes.retire_time_s,
        [GLIDEIN_PARAM.MaxIdle]: lifetimes.max_idle_s,
        ...voBundleParams(inputs.voBundle),
      },
      attrs: policy.attrs.filter((a) => a.parameter),
      start: policy.startText,
      // The factory's advertised id disagrees with its key: advertise ours, which is what the
      // encrypted text names, and let the factory notice.
      factoryPubKeyId:
        factory.pubKeyId !== undefined && factory.pubKeyId !== keyId ? factory.pubKeyId : undefined,
    });
    ads.push(ad);
    if (minted) {
      if (factory.entryName === undefined || factory.factoryName === undefined) {
        ads.pop();
        skipped.push({ entry: e.entry, reason: "the factory ad has no EntryName or FactoryName" });
        continue;
      }
      pendingTokens.push({
        ad,
        binding: {
          frontend: config.name,
          group: policy.name,
          entry: factory.entryName,
          factory: factory.factoryName,
          ...(factory.site !== undefined ? { site: factory.site } : {}),
          startExpr: policy.startText,
        },
        ...(proxyIssuer !== undefined ? { proxyIssuer } : {}),
        count: pilotTokenCount(
          e.request.idle,
          proxyIssuer !== undefined
            ? config.security.pilot_proxies.batch_max
            : (config.security.pilot_tokens?.batch_max ?? 1),
        ),
        publicKeyPem: factory.pubKeyValue,
      });
    }
    // The CE's audience is the gatekeeper's last word, as glideinWMS's frontend_scitoken takes it.
    const audience = factory.gatekeeper?.trim().split(/\s+/).at(-1);
    if (config.security.ce_tokens && audience) {
      pendingCeTokens.push({ ad, entry: e.entry, audience, publicKeyPem: factory.pubKeyValue });
    }
  }
  return { ads, skipped, pendingTokens, pendingCeTokens };
}

/** Names of GlideClient ads advertised last cycle that this cycle no longer wants. */
export function adsToWithdraw(previous: Iterable<string>, current: readonly ClassAd[]): string[] {
  const keep = new Set<string>();
  for (const ad of current) {
    const n = ad.getString(COMMON.Name);
    if (n !== undefined) keep.add(n);
  }
  return [...new Set(previous)].filter((n) => !keep.has(n)).sort();
}

/** One GlideResource monitoring ad per entry of the plan. */
export function buildGlideResourceAds(
  config: FrontendConfig,
  policy: GroupPolicy,
  plan: GroupPlan,
): ClassAd[] {
  const client = clientName(config.name, policy.name);
  const scripts = voScriptLines(config, policy.name).join("; ");
  return plan.entries.map((e) => {
    const limits: Record<string, string> = {};
    const curbs: Record<string, string> = {};
    for (const r of e.reasons) {
      if (r.kind === "max-reached") limits[r.limit] = `count=${r.count}, limit=${r.max}`;
      if (r.kind === "curb") curbs[r.limit] = `count=${r.count}, curb=${r.curb}`;
    }
    const ad = writeGlideResource({
      name: glideClientName(e.entry, client),
      glideClientName: client,
      frontendName: config.name,
      groupName: policy.name,
      glideFactoryEntry: e.entry,
      inDowntime: e.inDowntime,
      jobsIdle: e.jobs.count,
      jobsIdleMatching: e.jobs.prop,
      jobsIdleEffective: e.jobs.effectiveIdle,
      jobsIdleUnique: e.jobs.hereonly,
      glideinsIdle: e.pilots.idleSlots + e.pilots.queuedIdle,
      glideinsRunning: e.pilots.runningSlots,
      glideinsHeld: e.pilots.held,
      glideinsTotal: e.pilots.total,
      glideinsRequestIdle: e.request.idle,
      glideinsRequestMaxRun: e.request.max,
      limitsTriggered: e.reasons.map(describeReason).join("; "),
      limits,
      curbs,
      matchErrors: e.matchError?.count,
      matchExpr: policy.matchText,
    });
    if (scripts) ad.setValue(GLIDE_RESOURCE.VoScripts, scripts);
    return ad;
  });
}

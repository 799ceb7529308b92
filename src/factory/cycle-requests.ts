/** Requests in (GlideClient ads) and submissions out (credential, pilot spec). */
import { AD_TYPE, FRONTEND_IDENTITY_ENV } from "../ads/index.js";
import { basename } from "node:path";
import type { GridAdapter, PilotSpec } from "./adapters/types.js";
import { readGlideClientAd, type ParsedRequest } from "./client-requests.js";
import { encodeGlideinAttrs, PILOT_ATTRS_ENV } from "../ads/glidein-attrs.js";
import { attrsDroppedCounter, mergePilotAttrs } from "./pilot-attrs.js";
import {
  storeClientCredential,
  storePilotProxyBatch,
  storePilotTokenBatch,
  type StoredCredential,
} from "./credentials.js";
import { type CycleDeps, entryConfig } from "./cycle-deps.js";
import type { EntryConfig } from "./config.js";
import { decryptCredential } from "../security/credential-crypto.js";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";
import { checkCeToken } from "../security/ce-token-check.js";
import { entryCeAudience, storeSubmitToken } from "./submit-tokens.js";
import type { SubmitJob } from "./submitter.js";

/** The pilot bootstrap script, which takes the staging arguments. */
const BOOTSTRAP = "updraft-pilot-startup.sh";

export async function readRequests(d: CycleDeps): Promise<ParsedRequest[]> {
  let ads;
  try {
    ads = await d.collector.query({ type: AD_TYPE.GlideClient });
  } catch (err) {
    d.logger.error({ err }, "cannot read GlideClient ads; deciding on no requests");
    return [];
  }
  const out: ParsedRequest[] = [];
  for (const attrs of ads) {
    const r = d.requests
      ? d.requests.read(attrs, d.config.name)
      : readGlideClientAd(attrs, d.config.name);
    if (!r) continue;
    if (!r.ok) d.logger.warn({ ad: r.name, reason: r.reason }, "GlideClient ad skipped");
    else out.push(r.value);
  }
  d.requests?.endCycle();
  return out;
}

export function prepareSubmit(
  d: CycleDeps,
  adapter: GridAdapter,
  req: ParsedRequest,
  wanted: number,
): SubmitJob | undefined {
  let count = wanted;
  const r = req.request;
  const entry = entryConfig(d, r.entry)!;
  if (!entry.pilot) {
    d.store.recordError(r.entry, r.client, d.now(), "the entry has no pilot command");
    return undefined;
  }
  if (!req.encryptedCredential) {
    d.store.recordError(r.entry, r.client, d.now(), "the request carries no credential");
    return undefined;
  }
  const perPilot = req.credentialType === PILOT_TOKENS || req.credentialType === PILOT_PROXIES;
  const creds = requestCredentials(d, req, perPilot);
  if (creds === undefined) return undefined;
  // Single-pilot tokens: each pilot gets one no pilot has had, and no more pilots than tokens.
  const unused = perPilot ? unusedTokens(d, creds) : creds;
  if (perPilot && unused.length < count) {
    d.logger.info(
      { entry: r.entry, client: r.client, wanted: count, tokens: unused.length },
      "fewer unused pilot tokens than pilots to submit; submitting one per token",
    );
    count = unused.length;
  }
  const cred = unused[0];
  if (cred === undefined) return undefined;
  // An adapter that submits with the frontend's CE token gets it checked, or submits nothing.
  const submitTokenFile = adapter.capabilities.submitToken ? submitToken(d, req, entry) : undefined;
  if (adapter.capabilities.submitToken && submitTokenFile === undefined) return undefined;
  // Several credentials (a group's `selection: all`): each pilot gets the one with fewest pilots,
  // read from the store's live counts per credential.
  const spread =
    perPilot || creds.length <= 1
      ? []
      : spreadOverCredentials(creds, d.store.liveByCredential(r.entry, r.client), count);
  const credAt = (n: number) => (perPilot ? unused[n]! : (spread[n] ?? cred));
  const pilot = entry.pilot;
  if (req.attrProblems.length) {
    const problem = `attributes dropped: ${req.attrProblems.slice(0, 5).join("; ")}`;
    d.store.transaction(() => {
      for (const reason of req.attrDrops)
        d.store.count(r.entry, r.client, attrsDroppedCounter(reason));
      d.store.recordError(r.entry, r.client, d.now(), problem);
    });
    d.logger.warn({ entry: r.entry, client: r.client, problems: req.attrProblems }, problem);
  }
  const { env, args, keptConst } = pilotTemplate(d, req, entry);
  if (keptConst.length) {
    d.logger.debug(
      { entry: r.entry, client: r.client, attrs: keptConst },
      "the entry's const attributes kept over the frontend's",
    );
  }
  const resources = { cpus: pilot.cpus, memoryMb: pilot.memory_mb, walltimeS: pilot.walltime_s };
  return {
    adapter,
    req: {
      intent: {
        entry: entry.name,
        client: r.client,
        frontend: r.frontend,
        securityClass: r.securityClass,
        credentialId: cred.id,
        gridtype: entry.gridtype,
      },
      intentAt: (n) => ({
        entry: entry.name,
        client: r.client,
        frontend: r.frontend,
        securityClass: r.securityClass,
        credentialId: credAt(n).id,
        gridtype: entry.gridtype,
      }),
      count,
      clusterSize: (entry.submit ?? d.config.defaults.submit).cluster_size,
      spec: (intentId, n): PilotSpec => {
        const spec: PilotSpec = {
          intentId,
          command: pilot.command,
          args: [...args, "--pilot-id", `${d.config.name}-${intentId}`],
          env,
          credentialFile: credAt(n).file,
          resources,
        };
        if (submitTokenFile !== undefined) spec.submitTokenFile = submitTokenFile;
        return spec;
      },
    },
  };
}

/** What every pilot of a request shares: its environment, its arguments before its id. */
interface PilotTemplate {
  entry: EntryConfig;
  factory: string;
  /** The staging arguments it was made with, which change when the staging area does. */
  extra: readonly string[];
  env: Readonly<Record<string, string>>;
  args: readonly string[];
  keptConst: readonly string[];
}

/**
 * Templates by request, made once while the request, its entry and the staging arguments stay:
 * a request is reused cycle after cycle (see GlideClientReader), and building its environment
 * anew for each of thousands of requests per cycle was a large part of the submit step. The
 * environment is shared by the request's pilots; adapters only read it.
 */
const templates = new WeakMap<ParsedRequest, PilotTemplate>();

function pilotTemplate(d: CycleDeps, req: ParsedRequest, entry: EntryConfig): PilotTemplate {
  const pilot = entry.pilot!;
  // The staging area's URL and manifest hash are for the bootstrap script; a pilot started any
  // other way (`updraft pilot run` from an installed Updraft) would refuse them.
  const extra = basename(pilot.command) === BOOTSTRAP ? (d.pilotArgs?.(entry.name) ?? []) : [];
  const kept = templates.get(req);
  if (
    kept !== undefined &&
    kept.entry === entry &&
    kept.factory === d.config.name &&
    sameStrings(kept.extra, extra)
  ) {
    return kept;
  }
  const r = req.request;
  const merged = mergePilotAttrs(entry.attrs, req.attrs);
  const env: Record<string, string> = {
    GLIDEIN_Factory: d.config.name,
    GLIDEIN_Entry_Name: entry.name,
    GLIDEIN_Client: r.client,
    GLIDEIN_Frontend: r.frontend,
    ...req.params,
  };
  // The pilot always learns its site: slots advertise it and START expressions test it.
  const site = entry.attrs.GLIDEIN_Site;
  if (site) env.GLIDEIN_Site = String(site.value);
  Object.assign(env, merged.env);
  if (merged.attrs.length) env[PILOT_ATTRS_ENV] = encodeGlideinAttrs(merged.attrs);
  env.UPDRAFT_FAILURE_LINGER_S = String(pilot.failure_linger_s);
  Object.assign(env, pilot.env);
  // Whose PilotCredential ads may renew the pilot's token: the writer of this request, which
  // decide() checked against the frontend's security class. Set last, so nothing redirects it.
  if (r.authenticatedIdentity) env[FRONTEND_IDENTITY_ENV] = r.authenticatedIdentity;
  const made: PilotTemplate = {
    entry,
    factory: d.config.name,
    extra: [...extra],
    env: Object.freeze(env),
    args: [...pilot.args, ...extra],
    keptConst: merged.keptConst,
  };
  templates.set(req, made);
  return made;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The request's credentials, decrypted (each ciphertext once; see pilotCredentials); a group's
 * further credentials only when each pilot does not get its own. Undefined when one cannot be.
 */
function requestCredentials(
  d: CycleDeps,
  req: ParsedRequest,
  perPilot: boolean,
): StoredCredential[] | undefined {
  const first = pilotCredentials(d, req, req.encryptedCredential!);
  if (first === undefined) return undefined;
  const more = perPilot ? undefined : req.moreCredentials;
  if (more === undefined || more.length === 0) return first;
  const creds = [...first];
  for (const c of more) {
    const got = pilotCredentials(d, req, c);
    if (got === undefined) return undefined;
    creds.push(...got);
  }
  return creds;
}

/** The credential type whose plaintext is a batch of single-pilot tokens, one per line. */
const PILOT_TOKENS = "pilot_tokens";
/** The credential type whose plaintext is a batch of per-pilot proxies (storePilotProxyBatch). */
const PILOT_PROXIES = "pilot_proxies";

/**
 * The credential for each of `count` new pilots, over `creds`: the one with fewest pilots so far
 * (`live`: pilots per credential id), the first of equals, so requests split evenly over time.
 */
export function spreadOverCredentials(
  creds: readonly StoredCredential[],
  live: ReadonlyMap<string, number>,
  count: number,
): StoredCredential[] {
  if (creds.length <= 1) return [];
  const load = creds.map((c) => live.get(c.id) ?? 0);
  const out: StoredCredential[] = [];
  for (let n = 0; n < count; n++) {
    let best = 0;
    for (let i = 1; i < creds.length; i++) if (load[i]! < load[best]!) best = i;
    load[best]!++;
    out.push(creds[best]!);
  }
  return out;
}

/**
 * Each request's credential cache keys (client and ciphertext), made once per request read: the
 * ciphertexts are long, and a request is reused cycle after cycle (see GlideClientReader), so its
 * keys are too, with their hashes.
 */
const cacheKeys = new WeakMap<ParsedRequest, Map<string, string>>();

function credentialCacheKey(req: ParsedRequest, ciphertext: string): string {
  let keys = cacheKeys.get(req);
  if (keys === undefined) cacheKeys.set(req, (keys = new Map()));
  let key = keys.get(ciphertext);
  if (key === undefined) keys.set(ciphertext, (key = `${req.request.client}\u0000${ciphertext}`));
  return key;
}

/** One of the request's credentials, decrypted once per ciphertext and kept (see CredentialCache). */
function pilotCredentials(
  d: CycleDeps,
  req: ParsedRequest,
  ciphertext: string,
): StoredCredential[] | undefined {
  const r = req.request;
  const cacheKey = credentialCacheKey(req, ciphertext);
  const hit = d.credentialCache?.get(cacheKey);
  if (hit !== undefined) return Array.isArray(hit) ? hit : [hit];
  try {
    // Only reached for requests that passed the identity check in decide().
    const stored =
      req.credentialType === PILOT_TOKENS
        ? storePilotTokenBatch(d.credentialDir, r.client, ciphertext, d.keys.privatePem)
        : req.credentialType === PILOT_PROXIES
          ? storePilotProxyBatch(d.credentialDir, r.client, ciphertext, d.keys.privatePem)
          : storeClientCredential(d.credentialDir, r.client, ciphertext, d.keys.privatePem);
    d.credentialCache?.set(cacheKey, stored);
    return Array.isArray(stored) ? stored : [stored];
  } catch (err) {
    d.store.recordError(
      r.entry,
      r.client,
      d.now(),
      `cannot decrypt the credential: ${(err as Error).message}`,
    );
    d.logger.warn({ entry: r.entry, client: r.client, err }, "credential not decrypted");
    return undefined;
  }
}

function unusedTokens(d: CycleDeps, creds: readonly StoredCredential[]): StoredCredential[] {
  const used = d.store.credentialsUsed(creds.map((c) => c.id));
  return creds.filter((c) => !used.has(c.id));
}

/**
 * The request's CE token for the entry, decrypted (once per ciphertext), checked against the
 * entry's CE and stored (see submit-tokens.ts); undefined, with the client's error recorded, when
 * there is none or it may not be used. The token itself is never logged.
 */
function submitToken(d: CycleDeps, req: ParsedRequest, entry: EntryConfig): string | undefined {
  const r = req.request;
  const audience = entryCeAudience(entry);
  const refuse = (reason: string): undefined => {
    d.store.recordError(r.entry, r.client, d.now(), `submit token not used: ${reason}`);
    d.logger.warn({ entry: r.entry, client: r.client, reason }, "submit token not used");
    return undefined;
  };
  const cipher = req.encryptedSubmitToken;
  if (!cipher) {
    return refuse(
      `the entry submits with the frontend's token for its CE (audience ${audience}) and the request carries none`,
    );
  }
  const cacheKey = `submit-token\u0000${r.client}\u0000${entry.name}\u0000${cipher}`;
  const hit = d.credentialCache?.get(cacheKey);
  let token: string;
  try {
    if (hit !== undefined && !Array.isArray(hit)) {
      token = readBoundedText(hit.file, MAX_CREDENTIAL_FILE_BYTES).trim();
    } else {
      const bytes = decryptCredential(cipher, d.keys.privatePem);
      token = bytes.toString("latin1").trim();
      bytes.fill(0);
    }
  } catch (err) {
    return refuse(`cannot decrypt or read it: ${(err as Error).message}`);
  }
  const check = checkCeToken(token, audience, Math.floor(d.now() / 1000));
  if (!check.ok) return refuse(check.reason);
  const file = storeSubmitToken(d.credentialDir, r.client, entry.name, token);
  d.credentialCache?.set(cacheKey, { id: "submit-token", file });
  return file;
}

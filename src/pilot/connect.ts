/**
 * The real `ConnectFn`: one `JobSource` per schedd over the schedd client, and a `SlotAdvertiser`
 * over the collector client, all authenticated with the pilot's credential (held in memory).
 */
import { AD_TYPE } from "../ads/index.js";
import { readFileSync, statSync } from "node:fs";
import type { CollectorClient } from "../collector/client.js";
import { connectCollectorSet } from "../collector/collector-set.js";
import { scheddClient } from "../schedd/client.js";
import { readCredentialFile } from "../security/credential-file.js";
import { isBearerTokenText } from "../security/token-discovery.js";
import { loadClientCredentials, type ClientCredentials } from "../wire/client-tls.js";
import { createRpcClient, type RpcClient } from "../wire/client.js";
import { isKnownDown } from "../wire/status.js";
import type { JobSource, SlotAdvertiser } from "./interfaces.js";
import type { ConnectFn, PilotConnections } from "./pilot-main.js";
import { scheddSource } from "./schedd-source.js";
import type { PilotSettings } from "./settings.js";
import { UpdraftError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { createProxyRenewer } from "./proxy-renewal.js";
import { createTokenRenewer } from "./token-renewal.js";

/** The collector refused the pilot's slot ad: its configuration, not the network, is at fault. */
export class SlotRefusedError extends UpdraftError {
  readonly code = "slot-refused";
  override name = "SlotRefusedError";
}

export class ConnectConfigError extends UpdraftError {
  readonly code = "pilot-config";
  constructor(message: string) {
    super(message);
    this.name = "ConnectConfigError";
  }
}

/** No collector configured: the pilot still runs jobs, it just tells nobody about its slot. */
const silentAdvertiser: SlotAdvertiser = { advertise: async () => {}, invalidate: async () => {} };

/**
 * Advertises to a collector client, or to every collector of a set (see collector-set.ts);
 * `extra` attributes (the token renewal's) are set on every slot ad as it goes out.
 */
export function collectorAdvertiser(
  c: CollectorClient & { reachable?: () => boolean },
  extra?: () => Promise<Record<string, string>>,
): SlotAdvertiser {
  return {
    async advertise(ad, dynamic = []) {
      for (const [name, text] of Object.entries((await extra?.()) ?? {})) ad.set(name, text);
      const outcomes = await c.advertise(
        [ad, ...dynamic].map((a) => a.toJSON()),
        AD_TYPE.Slot,
        { deadlineMs: ADVERTISE_DEADLINE_MS },
      );
      // A refused ad is a configuration problem, not a transient one; the loop logs and retries.
      const refused = outcomes.find((r) => !r.ok);
      if (refused) {
        throw new SlotRefusedError(
          `collector refused the slot ad: ${refused.code} ${refused.message}`,
        );
      }
    },
    async invalidate(name, opts) {
      await c.invalidate({ type: AD_TYPE.Slot, name }, opts);
    },
    ...(c.reachable ? { reachable: c.reachable } : {}),
  };
}

/**
 * An advertisement waits no longer than this for a collector that is up but not answering: the
 * pilot's loop (and its jobs' heartbeats) wait for it. A few ads take milliseconds when it works.
 */
export const ADVERTISE_DEADLINE_MS = 10_000;

export const connectReal: ConnectFn = async (
  s: PilotSettings,
  log?: Logger,
): Promise<PilotConnections> => {
  if (s.collectors.length === 0 && s.schedds.length === 0) {
    return { sources: [], advertiser: silentAdvertiser, close: async () => {} };
  }
  if (!s.credentialFile) throw new ConnectConfigError("no pilot credential file given");
  if (!s.trustDir) throw new ConnectConfigError("no trust directory (X509_CERT_DIR) given");
  // Checked here so a missing directory is the site's configuration problem, named as such,
  // rather than a file system error surfacing from the first TLS connection.
  if (!isDirectory(s.trustDir)) {
    throw new ConnectConfigError(`trust directory ${s.trustDir} (X509_CERT_DIR) does not exist`);
  }
  // One TLS context for every connection, from the credential the pilot holds in memory: a
  // proxy (or certificate and key), or a bearer token sent at each connection's upgrade.
  const text = s.credentialPem ?? readFileSync(s.credentialFile, "latin1");
  const isToken = isBearerTokenText(text);
  // A token or per-pilot proxy the frontend will renew: each connection takes the one held then.
  const renewable = s.collectors.length > 0 && s.frontendIdentity !== undefined;
  const renewerOptions = {
    frontendIdentity: s.frontendIdentity ?? "",
    log,
    onSchedds: (urls: string[]) => addSchedds(urls),
  };
  const renewer = !renewable
    ? undefined
    : isToken
      ? createTokenRenewer(text.trim(), renewerOptions)
      : createProxyRenewer(text, renewerOptions);
  const credentials = isToken
    ? loadClientCredentials({
        bearerToken: renewer ? renewer.current : text.trim(),
        caDir: s.trustDir,
      })
    : renewer
      ? renewingProxyCredentials(renewer.current, s.trustDir)
      : loadClientCredentials(heldPem(text, s.trustDir));
  const rpcs: RpcClient[] = [];
  // The pilot's log gets what its connections see (a refusal names the check that failed, never
  // the credential), so a refused token shows there and not only in the failed call's error.
  const rpcFor = (url: string) => {
    const rpc = createRpcClient({ url, credentials, ...(log ? { logger: log } : {}) });
    rpcs.push(rpc);
    return rpc;
  };
  const sourceFor = (url: string): JobSource => {
    const rpc = rpcFor(url);
    return { ...scheddSource(url, scheddClient(rpc)), reachable: () => !isKnownDown(rpc.status) };
  };
  const sources = s.schedds.map(sourceFor);
  // Schedds a renewal names that the pilot was not submitted with (found by its frontend since):
  // the loop asks them too, from its next claim round on.
  const addSchedds = (urls: readonly string[]) => {
    const added = newSchedds(
      sources.map((x) => x.name),
      urls,
    );
    for (const url of added) sources.push(sourceFor(url));
    if (added.length > 0) log?.info({ schedds: added }, "schedds found since submission added");
  };
  let advertiser = silentAdvertiser;
  if (s.collectors.length > 0) {
    // The set waits for the collectors whose connection is up, so one that is down or being
    // reconnected to does not hold each advertisement (and the pilot's loop) for a deadline.
    const collectors = connectCollectorSet(s.collectors, rpcFor).collector;
    advertiser = collectorAdvertiser(collectors, renewer?.slotAttrs);
    renewer?.start(collectors);
  }
  return {
    sources,
    advertiser,
    ...(renewer ? { credentialEnd: () => renewer.giveUpAt() } : {}),
    close: async () => {
      renewer?.stop();
      await Promise.all(rpcs.map((r) => r.close()));
    },
  };
};

/** Most schedds a pilot asks, whatever renewals name. */
export const MAX_PILOT_SCHEDDS = 64;

/** The URLs of `named` not among `known`, within MAX_PILOT_SCHEDDS in all. */
export function newSchedds(known: readonly string[], named: readonly string[]): string[] {
  const have = new Set(known);
  const out: string[] = [];
  for (const url of named) {
    if (have.size >= MAX_PILOT_SCHEDDS) break;
    if (have.has(url)) continue;
    have.add(url);
    out.push(url);
  }
  return out;
}

/**
 * Client credentials over a proxy that is renewed: each (re)connection takes the TLS context of
 * the proxy held at that moment, built once per proxy.
 */
export function renewingProxyCredentials(current: () => string, caDir: string): ClientCredentials {
  let text = current();
  let loaded = loadClientCredentials(heldPem(text, caDir));
  const now = () => {
    if (current() !== text) {
      text = current();
      loaded = loadClientCredentials(heldPem(text, caDir));
    }
    return loaded;
  };
  return {
    get secureContext() {
      return now().secureContext;
    },
    get notAfter() {
      return now().notAfter;
    },
    get renewHint() {
      return now().renewHint;
    },
  };
}

function heldPem(text: string, caDir: string) {
  const held = readCredentialFile(text);
  return { certPem: held.chainPem.join(""), keyPem: held.keyPem, caDir };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

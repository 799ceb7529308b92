/** Requests in (GlideClient ads) and submissions out (credential, pilot spec). */
import type { GridAdapter, PilotSpec } from "./adapters/types.js";
import { readGlideClientAd, type ParsedRequest } from "./client-requests.js";
import { storeClientCredential } from "./credentials.js";
import { type CycleDeps, entryConfig } from "./cycle-deps.js";
import type { SubmitJob } from "./submitter.js";

export async function readRequests(d: CycleDeps): Promise<ParsedRequest[]> {
  let ads;
  try {
    ads = await d.collector.query({ type: "GlideClient" });
  } catch (err) {
    d.logger.error({ err }, "cannot read GlideClient ads; deciding on no requests");
    return [];
  }
  const out: ParsedRequest[] = [];
  for (const attrs of ads) {
    const r = readGlideClientAd(attrs, d.config.name);
    if (!r) continue;
    if (!r.ok) d.logger.warn({ ad: r.name, reason: r.reason }, "GlideClient ad skipped");
    else out.push(r.value);
  }
  return out;
}

export function prepareSubmit(
  d: CycleDeps,
  adapter: GridAdapter,
  req: ParsedRequest,
  count: number,
): SubmitJob | undefined {
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
  const cacheKey = `${r.client}\u0000${req.encryptedCredential}`;
  let cred = d.credentialCache?.get(cacheKey);
  try {
    // Only reached for requests that passed the identity check in decide().
    cred ??= storeClientCredential(
      d.credentialDir,
      r.client,
      req.encryptedCredential,
      d.keys.privatePem,
    );
    d.credentialCache?.set(cacheKey, cred);
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
  const pilot = entry.pilot;
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
  for (const [name, a] of Object.entries(entry.attrs)) if (a.to_pilot) env[name] = String(a.value);
  Object.assign(env, pilot.env);
  const extra = d.pilotArgs?.() ?? [];
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
      count,
      clusterSize: (entry.submit ?? d.config.defaults.submit).cluster_size,
      spec: (intentId): PilotSpec => ({
        intentId,
        command: pilot.command,
        args: [...pilot.args, ...extra, "--pilot-id", `${d.config.name}-${intentId}`],
        env,
        credentialFile: cred.file,
        resources: { cpus: pilot.cpus, memoryMb: pilot.memory_mb, walltimeS: pilot.walltime_s },
      }),
    },
  };
}

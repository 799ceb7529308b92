/**
 * GlideClient ads (as the collector returns them) to the factory's requests. Only ads whose
 * `ReqGlidein` names one of this factory's entries are kept; anything unreadable is skipped with
 * a reason rather than guessed at.
 */
import type { AttrDropReason } from "../ads/glidein-attrs.js";
import { readGlideClient } from "../ads/index.js";
import { ClassAd, tryParse } from "../classad/index.js";
import type { ClientRequest } from "./decide-types.js";
import { parseRemoveExcess } from "./remove-excess.js";
import type { GlideinAttr } from "../ads/glidein-attrs.js";
import { VO_BUNDLE_SHA256_PARAM, VO_BUNDLE_URL_PARAM } from "../common/vo-bundle.js";
import { readClientAttrs } from "./pilot-attrs.js";

export interface ParsedRequest {
  request: ClientRequest;
  /** Still encrypted; decrypted only after the request passed its checks. */
  encryptedCredential?: string;
  /** Further credentials to split the pilots over (the frontend group's `selection: all`). */
  moreCredentials?: string[];
  /** The frontend's bearer token for the entry's CE, still encrypted (see submit-tokens.ts). */
  encryptedSubmitToken?: string;
  /** `pilot_tokens` or `pilot_proxies`: the credential is a batch of single-pilot credentials. */
  credentialType?: string;
  /** The frontend's own `GlideinParam<X>` settings (collector, schedds, lifetimes, start). */
  params: Record<string, string>;
  /** The frontend's VO attributes that passed their checks. */
  attrs: GlideinAttr[];
  /** Attributes dropped, with why (shown by `factory status` through the client's last error). */
  attrProblems: string[];
  /** The reason each dropped attribute was dropped, counted in the factory's metrics. */
  attrDrops: AttrDropReason[];
}

export type ReadResult =
  { ok: true; value: ParsedRequest } | { ok: false; name: string; reason: string };

export function readGlideClientAd(
  attrs: Readonly<Record<string, string>>,
  factory: string,
): ReadResult | undefined {
  const parsed = tryParse(() => ClassAd.fromJSON(attrs));
  if (!parsed.ok) return { ok: false, name: attrs.Name ?? "?", reason: "unparseable ad" };
  const r = readGlideClient(parsed.value);
  const target = r.reqGlidein ?? "";
  const suffix = `@${factory}`;
  if (!target.endsWith(suffix)) return undefined;
  const name = r.name ?? target;
  const { clientName: client, frontendName: frontend, securityClass } = r;
  const reqIdle = r.reqIdleGlideins;
  const reqMax = r.reqMaxGlideins;
  if (!client || !frontend || !securityClass || reqIdle === undefined || reqMax === undefined) {
    return {
      ok: false,
      name,
      reason:
        "missing one of ClientName, FrontendName, GlideinSecurityClass, ReqIdleGlideins, ReqMaxGlideins",
    };
  }
  const split = readClientAttrs(r);
  if ("tooMany" in split) {
    return { ok: false, name, reason: `${split.tooMany} attributes, more than a pilot takes` };
  }
  const params = split.system;
  const bundleProblem = voBundleProblem(params);
  if (bundleProblem) return { ok: false, name, reason: bundleProblem };
  // The frontend's start expression travels as text; the pilot makes it its START.
  if (r.start?.trim()) params.GLIDEIN_Start = r.start;
  return {
    ok: true,
    value: {
      request: {
        entry: target.slice(0, -suffix.length),
        client,
        frontend,
        securityClass,
        authenticatedIdentity: r.authenticatedIdentity ?? "",
        reqIdle: Math.max(0, reqIdle),
        reqMax: Math.max(0, reqMax),
        removeExcess: parseRemoveExcess(r.reqRemoveExcess),
        removeMargin: r.reqRemoveExcessMargin,
        idleLifetimeS: r.reqIdleLifetime,
      },
      encryptedCredential: r.encCredential,
      ...(r.moreCredentials ? { moreCredentials: r.moreCredentials } : {}),
      ...(r.credentialType !== undefined ? { credentialType: r.credentialType } : {}),
      ...(r.encSubmitToken !== undefined ? { encryptedSubmitToken: r.encSubmitToken } : {}),
      params,
      attrs: split.attrs,
      attrProblems: split.problems,
      attrDrops: split.dropped,
    },
  };
}

/**
 * The VO bundle's URL and hash come together, the URL http(s) and bounded, the hash 64 hex
 * digits: the pilot checks every file against it, so the factory passes on only what is sound.
 */
function voBundleProblem(params: Readonly<Record<string, string>>): string | undefined {
  const url = params[VO_BUNDLE_URL_PARAM];
  const sha = params[VO_BUNDLE_SHA256_PARAM];
  if (url === undefined && sha === undefined) return undefined;
  if (url === undefined || sha === undefined) {
    return `${VO_BUNDLE_URL_PARAM} and ${VO_BUNDLE_SHA256_PARAM} come together`;
  }
  if (url.length > 2048 || !/^https?:\/\/[^\s"'\\]+$/.test(url)) {
    return `${VO_BUNDLE_URL_PARAM} is not an http:// or https:// URL`;
  }
  if (!/^[0-9a-f]{64}$/.test(sha))
    return `${VO_BUNDLE_SHA256_PARAM} is not 64 lowercase hex digits`;
  return undefined;
}

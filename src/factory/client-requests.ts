/**
 * GlideClient ads (as the collector returns them) to the factory's requests. Only ads whose
 * `ReqGlidein` names one of this factory's entries are kept; anything unreadable is skipped with
 * a reason rather than guessed at.
 */
import type { AttrDropReason } from "../ads/glidein-attrs.js";
import { COMMON, readGlideClient } from "../ads/index.js";
import { CycleCache } from "../common/cycle-cache.js";
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
  return readParsed(attrs, factory).result;
}

type Attrs = Readonly<Record<string, string>>;

/** The request, and whether every attribute of the ad is a literal (see GlideClientReader). */
function readParsed(
  attrs: Attrs,
  factory: string,
): { result: ReadResult | undefined; literal: boolean } {
  const parsed = tryParse(() => ClassAd.fromJSON(attrs));
  if (!parsed.ok) {
    return {
      result: { ok: false, name: attrs.Name ?? "?", reason: "unparseable ad" },
      literal: false,
    };
  }
  let literal = true;
  for (const e of parsed.value.entries.values()) if (e.expr.kind !== "literal") literal = false;
  return { result: readAd(parsed.value, factory), literal };
}

/**
 * Reads GlideClient ads cycle after cycle, reusing what it read from an ad whose text has not
 * changed. A frontend sends the same ads every cycle (it keeps its credentials' ciphertexts too:
 * see credential-seal.ts), and reading 10,000 of them anew (parse, evaluate, check) was a large
 * share of a factory's cycle. Only ads whose every attribute is a literal are reused, so no
 * expression can depend on the time or on another attribute; the collector's LastHeardFrom,
 * which changes each time the ad is sent and which the reading never uses, is left out of the
 * comparison. The results are shared between cycles and never changed.
 */
export class GlideClientReader {
  private readonly known = new CycleCache<{
    factory: string;
    attrs: Attrs;
    size: number;
    result: ReadResult | undefined;
  }>();

  read(attrs: Attrs, factory: string): ReadResult | undefined {
    const name = typeof attrs.Name === "string" ? attrs.Name : "";
    const hit = this.known.get(name);
    if (hit && hit.factory === factory && sameText(hit.attrs, hit.size, attrs)) return hit.result;
    const { result, literal } = readParsed(attrs, factory);
    if (literal) this.known.set(name, { factory, attrs, size: textSize(attrs), result });
    return result;
  }

  /** Forget the ads the cycle that just ended did not read. */
  endCycle(): void {
    this.known.endCycle();
  }
}

const HEARD = COMMON.LastHeardFrom.toLowerCase();
const isHeard = (k: string) => k.length === HEARD.length && k.toLowerCase() === HEARD;

function textSize(a: Attrs): number {
  let n = 0;
  for (const k in a) if (!isHeard(k)) n++;
  return n;
}

/** Whether `b` has the `size` attributes of `a`, with the same texts (LastHeardFrom aside). */
function sameText(a: Attrs, size: number, b: Attrs): boolean {
  let n = 0;
  for (const k in b) {
    if (isHeard(k)) continue;
    if (!Object.hasOwn(a, k) || a[k] !== b[k]) return false;
    n++;
  }
  return n === size;
}

function readAd(ad: ClassAd, factory: string): ReadResult | undefined {
  const r = readGlideClient(ad);
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

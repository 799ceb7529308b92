/**
 * GlideClient ads (as the collector returns them) to the factory's requests. Only ads whose
 * `ReqGlidein` names one of this factory's entries are kept; anything unreadable is skipped with
 * a reason rather than guessed at.
 */
import { ClassAd, tryParse } from "../classad/index.js";
import type { ClientRequest } from "./decide-types.js";
import { parseRemoveExcess } from "./remove-excess.js";

export interface ParsedRequest {
  request: ClientRequest;
  /** Still encrypted; decrypted only after the request passed its checks. */
  encryptedCredential?: string;
  /** `GlideinParam<X>` attributes, passed to the pilot as `X`. */
  params: Record<string, string>;
}

export type ReadResult =
  { ok: true; value: ParsedRequest } | { ok: false; name: string; reason: string };

export function readGlideClientAd(
  attrs: Readonly<Record<string, string>>,
  factory: string,
): ReadResult | undefined {
  const parsed = tryParse(() => ClassAd.fromJSON(attrs));
  if (!parsed.ok) return { ok: false, name: attrs.Name ?? "?", reason: "unparseable ad" };
  const ad = parsed.value;
  const str = (n: string): string | undefined => {
    const v = ad.evaluate(n);
    return typeof v === "string" ? v : undefined;
  };
  const int = (n: string): number | undefined => {
    const v = ad.evaluate(n);
    return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : undefined;
  };
  const target = str("ReqGlidein") ?? "";
  const suffix = `@${factory}`;
  if (!target.endsWith(suffix)) return undefined;
  const name = str("Name") ?? target;
  const client = str("ClientName");
  const frontend = str("FrontendName");
  const securityClass = str("GlideinSecurityClass");
  const reqIdle = int("ReqIdleGlideins");
  const reqMax = int("ReqMaxGlideins");
  if (!client || !frontend || !securityClass || reqIdle === undefined || reqMax === undefined) {
    return {
      ok: false,
      name,
      reason:
        "missing one of ClientName, FrontendName, GlideinSecurityClass, ReqIdleGlideins, ReqMaxGlideins",
    };
  }
  const params: Record<string, string> = {};
  for (const key of Object.keys(attrs)) {
    if (!/^GlideinParam[A-Za-z0-9_]+$/i.test(key)) continue;
    const v = ad.evaluate(key);
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      params[key.slice("GlideinParam".length)] = String(v);
    }
  }
  // The frontend's start expression travels as text; the pilot makes it its START.
  const start = ad.evaluate("GLIDEIN_Start");
  if (typeof start === "string" && start.trim()) params.GLIDEIN_Start = start;
  return {
    ok: true,
    value: {
      request: {
        entry: target.slice(0, -suffix.length),
        client,
        frontend,
        securityClass,
        authenticatedIdentity: str("AuthenticatedIdentity") ?? "",
        reqIdle: Math.max(0, reqIdle),
        reqMax: Math.max(0, reqMax),
        removeExcess: parseRemoveExcess(str("ReqRemoveExcess")),
        removeMargin: int("ReqRemoveExcessMargin"),
        idleLifetimeS: int("ReqIdleLifetime"),
      },
      encryptedCredential: str("GlideinEncParamCredential"),
      params,
    },
  };
}

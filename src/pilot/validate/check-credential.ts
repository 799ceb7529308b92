/**
 * The pilot credential must outlive the pilot's expected lifetime (or, when its frontend renews
 * it, its `renew_until` must): an expired proxy or token would make every later call fail, so it
 * is a VO_Proxy failure up front. Contents are never
 * reported. A bearer token is only read here (its signature is the schedd's and collector's to
 * check); its identity is `<iss>#<sub>` as the daemons will see it.
 */
import { NODE } from "../../ads/names.js";
import { describeCredential } from "../../security/proxy-info.js";
import { isBearerTokenText } from "../../security/token-discovery.js";
import { describeToken } from "../../security/token-description.js";
import { fail, pass, type CheckResult } from "../failure.js";
import { proxyFacts } from "../proxy-renewal.js";
import { tokenFacts } from "../token-renewal.js";
import type { NodeView } from "./node-view.js";
import type { ValidationSettings } from "./settings.js";

export function checkCredential(view: NodeView, s: ValidationSettings, now: Date): CheckResult {
  if (!s.credentialFile) return pass();
  const pem = s.credentialPem ?? view.readFile(s.credentialFile);
  if (pem === undefined) return fail("VO_Proxy", `cannot read credential ${s.credentialFile}`);
  let info;
  try {
    info = isBearerTokenText(pem)
      ? describeTokenCredential(pem, now)
      : describeProxyCredential(pem, s.credentialFile, now);
  } catch {
    info = undefined;
  }
  if (info === undefined) {
    return fail("VO_Proxy", `credential ${s.credentialFile} holds no usable certificate or token`);
  }
  const need = s.credentialMinS ?? 0;
  // A token or per-pilot proxy the frontend renews needs to last only until its first renewal;
  // its renew_until must cover the pilot's life instead.
  const renewUntil = s.credentialRenewable && "renewUntil" in info ? info.renewUntil : undefined;
  const covered =
    renewUntil === undefined
      ? info.timeLeftSeconds
      : Math.max(0, Math.floor(renewUntil - now.getTime() / 1000));
  if (!info.valid || covered < need) {
    const what = renewUntil === undefined ? "left" : "left to renew";
    return fail(
      "VO_Proxy",
      `credential ${s.credentialFile} has ${covered} s ${what}, ${need} s needed`,
    );
  }
  return pass({
    [NODE.CredentialIdentity]: info.identity,
    [NODE.CredentialTimeLeft]: info.timeLeftSeconds,
    [NODE.CredentialNotAfter]: Math.floor(Date.parse(info.notAfter) / 1000),
    ...(renewUntil !== undefined ? { [NODE.CredentialRenewUntil]: renewUntil } : {}),
  });
}

/** A token's identity and time left, in the shape of a proxy's description; none if unusable. */
function describeTokenCredential(text: string, now: Date) {
  const d = describeToken(text.trim(), now.getTime());
  if (!d.ok || typeof d.claims.exp !== "number") return undefined;
  const { iss, sub, exp } = d.claims;
  const left = Math.floor(exp - now.getTime() / 1000);
  const renewUntil = tokenFacts(text.trim())?.renewUntil;
  return {
    identity: `${typeof iss === "string" ? iss : "?"}#${typeof sub === "string" ? sub : "?"}`,
    valid: left > 0,
    timeLeftSeconds: Math.max(0, left),
    notAfter: new Date(exp * 1000).toISOString(),
    ...(renewUntil !== undefined ? { renewUntil } : {}),
  };
}

/** A proxy's description, with its binding's `renew_until` when it is a renewable pilot proxy. */
function describeProxyCredential(pem: string, path: string, now: Date) {
  const info = describeCredential(pem, path, now);
  const renewUntil = proxyFacts(pem, Math.floor(now.getTime() / 1000))?.renewUntil;
  return { ...info, ...(renewUntil !== undefined ? { renewUntil } : {}) };
}

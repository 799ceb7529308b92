/**
 * The pilot credential must outlive the pilot's expected lifetime: an expired proxy would make
 * every later call fail, so it is a VO_Proxy failure up front. Contents are never reported.
 */
import { describeCredential } from "../../security/proxy-info.js";
import { fail, pass, type CheckResult } from "../failure.js";
import type { NodeView } from "./node-view.js";
import type { ValidationSettings } from "./settings.js";

export function checkCredential(view: NodeView, s: ValidationSettings, now: Date): CheckResult {
  if (!s.credentialFile) return pass();
  const pem = s.credentialPem ?? view.readFile(s.credentialFile);
  if (pem === undefined) return fail("VO_Proxy", `cannot read credential ${s.credentialFile}`);
  let info;
  try {
    info = describeCredential(pem, s.credentialFile, now);
  } catch {
    return fail("VO_Proxy", `credential ${s.credentialFile} holds no usable certificate`);
  }
  const need = s.credentialMinS ?? 0;
  if (!info.valid || info.timeLeftSeconds < need) {
    return fail(
      "VO_Proxy",
      `credential ${s.credentialFile} has ${info.timeLeftSeconds} s left, ${need} s needed`,
    );
  }
  return pass({
    GLIDEIN_Credential_Identity: info.identity,
    GLIDEIN_Credential_TimeLeft: info.timeLeftSeconds,
    GLIDEIN_Credential_NotAfter: Math.floor(Date.parse(info.notAfter) / 1000),
  });
}

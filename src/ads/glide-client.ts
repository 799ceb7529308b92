/**
 * GlideClient: a frontend group's request to one factory entry. The writer gives the ad the
 * frontend advertises; the reader gives every field typed, or undefined when the attribute is
 * missing or of another type, and leaves the decision about what is required to the caller
 * (the factory refuses a request lacking its counts; a monitor shows what is there).
 */
import { ClassAd } from "../classad/index.js";
import type { GlideinAttr } from "./glidein-attrs.js";
import { AD_TYPE, COMMON, GLIDE_CLIENT as A } from "./names.js";

export type ParamValue = string | number | boolean;

/** Credentials one request may carry besides its first. */
export const MAX_EXTRA_CREDENTIALS = 15;

export interface GlideClientAd {
  name: string;
  clientName: string;
  frontendName: string;
  groupName: string;
  reqName: string;
  reqGlidein: string;
  reqIdleGlideins: number;
  reqMaxGlideins: number;
  reqRemoveExcess: string;
  reqRemoveExcessMargin: number;
  reqIdleLifetime: number;
  reqPubKeyId: string;
  reqEncIdentity: string;
  encCredential: string;
  /**
   * Further credentials the request's pilots are split over (`GlideinEncParamCredential_1`...,
   * at most MAX_EXTRA_CREDENTIALS), each encrypted as the first.
   */
  moreCredentials?: readonly string[];
  credentialType: string;
  /**
   * A bearer token for submitting to the entry's CE, its audience the CE (glideinWMS's
   * `frontend_scitoken`), encrypted as the credential.
   */
  encSubmitToken?: string;
  securityClass: string;
  trustDomain: string;
  /** `GlideinParam<X>` attributes by X, in order. */
  params: Readonly<Record<string, ParamValue>>;
  /** The group's VO attributes: written as parameters, their kinds in the three lists. */
  attrs?: readonly GlideinAttr[];
  /** The start expression as text. */
  start: string;
  /** Set only when the factory's advertised key id disagrees with the one used. */
  factoryPubKeyId?: string;
}

export function writeGlideClient(r: GlideClientAd): ClassAd {
  const ad = new ClassAd()
    .setValue(COMMON.MyType, AD_TYPE.GlideClient)
    .setValue(COMMON.Name, r.name)
    .setValue(A.ClientName, r.clientName)
    .setValue(A.FrontendName, r.frontendName)
    .setValue(A.GroupName, r.groupName)
    .setValue(A.ReqName, r.reqName)
    .setValue(A.ReqGlidein, r.reqGlidein)
    .setValue(A.ReqIdleGlideins, r.reqIdleGlideins)
    .setValue(A.ReqMaxGlideins, r.reqMaxGlideins)
    .setValue(A.ReqRemoveExcess, r.reqRemoveExcess)
    .setValue(A.ReqRemoveExcessMargin, r.reqRemoveExcessMargin)
    .setValue(A.ReqIdleLifetime, r.reqIdleLifetime)
    .setValue(A.ReqPubKeyID, r.reqPubKeyId)
    .setValue(A.ReqEncIdentity, r.reqEncIdentity)
    .setValue(A.EncCredential, r.encCredential)
    .setValue(A.CredentialType, r.credentialType)
    .setValue(A.SecurityClass, r.securityClass)
    .setValue(A.TrustDomain, r.trustDomain);
  if (r.encSubmitToken !== undefined) ad.setValue(A.EncSubmitToken, r.encSubmitToken);
  (r.moreCredentials ?? []).slice(0, MAX_EXTRA_CREDENTIALS).forEach((c, i) => {
    ad.setValue(`${A.EncCredential}_${i + 1}`, c);
  });
  for (const [k, v] of Object.entries(r.params)) ad.setValue(A.ParamPrefix + k, v);
  if (r.attrs?.length) {
    for (const a of r.attrs) ad.setValue(A.ParamPrefix + a.name, a.value);
    const names = (pick: (a: GlideinAttr) => boolean) =>
      r
        .attrs!.filter(pick)
        .map((a) => a.name)
        .join(",");
    ad.setValue(
      A.ExprAttrs,
      names((a) => a.type === "expr"),
    );
    ad.setValue(
      A.PublishAttrs,
      names((a) => a.publish),
    );
    ad.setValue(
      A.JobPublishAttrs,
      names((a) => a.job),
    );
  }
  // Text, not a live expression: the pilot turns it into its START.
  ad.setValue(A.Start, r.start);
  if (r.factoryPubKeyId !== undefined) ad.setValue(A.FactoryPubKeyID, r.factoryPubKeyId);
  return ad;
}

/** Every field of a received GlideClient ad, typed; undefined where absent or mistyped. */
export type ReadGlideClient = {
  [K in keyof Omit<GlideClientAd, "attrs" | "moreCredentials">]?: GlideClientAd[K];
} & {
  params: Record<string, ParamValue>;
  moreCredentials?: string[];
  /** The three lists as written; the factory decides what of them it accepts. */
  exprAttrs?: string[];
  publishAttrs?: string[];
  jobPublishAttrs?: string[];
  authenticatedIdentity?: string;
};

const PARAM = /^GlideinParam[A-Za-z0-9_]+$/i;

export function readGlideClient(ad: ClassAd): ReadGlideClient {
  const params: Record<string, ParamValue> = {};
  for (const key of ad.names()) {
    if (!PARAM.test(key)) continue;
    // Literals only: a parameter is a value the frontend chose, never code run at the factory.
    const expr = ad.getExpr(key);
    const v = expr?.kind === "literal" ? expr.value : undefined;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      params[key.slice(A.ParamPrefix.length)] = v;
    }
  }
  const list = (name: string) => ad.getString(name)?.split(",").filter(Boolean);
  const more: string[] = [];
  for (let i = 1; i <= MAX_EXTRA_CREDENTIALS; i++) {
    const c = ad.getString(`${A.EncCredential}_${i}`);
    if (c === undefined) break;
    more.push(c);
  }
  return {
    name: ad.getString(COMMON.Name),
    clientName: ad.getString(A.ClientName),
    frontendName: ad.getString(A.FrontendName),
    groupName: ad.getString(A.GroupName),
    reqName: ad.getString(A.ReqName),
    reqGlidein: ad.getString(A.ReqGlidein),
    reqIdleGlideins: ad.getInteger(A.ReqIdleGlideins),
    reqMaxGlideins: ad.getInteger(A.ReqMaxGlideins),
    reqRemoveExcess: ad.getString(A.ReqRemoveExcess),
    reqRemoveExcessMargin: ad.getInteger(A.ReqRemoveExcessMargin),
    reqIdleLifetime: ad.getInteger(A.ReqIdleLifetime),
    reqPubKeyId: ad.getString(A.ReqPubKeyID),
    reqEncIdentity: ad.getString(A.ReqEncIdentity),
    encCredential: ad.getString(A.EncCredential),
    ...(more.length ? { moreCredentials: more } : {}),
    credentialType: ad.getString(A.CredentialType),
    encSubmitToken: ad.getString(A.EncSubmitToken),
    securityClass: ad.getString(A.SecurityClass),
    trustDomain: ad.getString(A.TrustDomain),
    params,
    exprAttrs: list(A.ExprAttrs),
    publishAttrs: list(A.PublishAttrs),
    jobPublishAttrs: list(A.JobPublishAttrs),
    start: ad.getString(A.Start),
    factoryPubKeyId: ad.getString(A.FactoryPubKeyID),
    authenticatedIdentity: ad.getString(COMMON.AuthenticatedIdentity),
  };
}

/**
 * The pool's ad types and their attribute names, in one place. The spellings are glideinWMS's and
 * HTCondor's (operators and their tools know them); code outside src/ads/ refers to these
 * constants rather than spelling the names again.
 */

export const AD_TYPE = {
  GlideFactory: "GlideFactory",
  GlideClient: "GlideClient",
  GlideFactoryClient: "GlideFactoryClient",
  GlideResource: "GlideResource",
  Slot: "Slot",
  Scheduler: "Scheduler",
  Collector: "Collector",
} as const;
export type AdType = (typeof AD_TYPE)[keyof typeof AD_TYPE];

/** Attributes every ad carries. */
export const COMMON = {
  MyType: "MyType",
  Name: "Name",
  ClassAdLifetime: "ClassAdLifetime",
  AuthenticatedIdentity: "AuthenticatedIdentity",
} as const;

/** A frontend group's request to one factory entry. */
export const GLIDE_CLIENT = {
  ClientName: "ClientName",
  FrontendName: "FrontendName",
  GroupName: "GroupName",
  ReqName: "ReqName",
  ReqGlidein: "ReqGlidein",
  ReqIdleGlideins: "ReqIdleGlideins",
  ReqMaxGlideins: "ReqMaxGlideins",
  ReqRemoveExcess: "ReqRemoveExcess",
  ReqRemoveExcessMargin: "ReqRemoveExcessMargin",
  ReqIdleLifetime: "ReqIdleLifetime",
  ReqPubKeyID: "ReqPubKeyID",
  ReqEncIdentity: "ReqEncIdentity",
  EncCredential: "GlideinEncParamCredential",
  CredentialType: "GlideinCredentialType",
  SecurityClass: "GlideinSecurityClass",
  TrustDomain: "GlideinTrustDomain",
  /** `GlideinParam<X>`: passed to the pilot as `X`. */
  ParamPrefix: "GlideinParam",
  /** The frontend's start expression, as text; the pilot makes it its START. */
  Start: "GLIDEIN_Start",
  FactoryPubKeyID: "FactoryPubKeyID",
} as const;

/** What the factory sees for one (entry, client). */
export const GLIDE_FACTORY_CLIENT = {
  ReqGlidein: "ReqGlidein",
  ReqClientName: "ReqClientName",
  ReqFrontendName: "ReqFrontendName",
  EntryName: "EntryName",
  FactoryName: "FactoryName",
  StatusIdle: "GlideinMonitorStatusIdle",
  StatusRunning: "GlideinMonitorStatusRunning",
  StatusHeld: "GlideinMonitorStatusHeld",
  StatusTotal: "GlideinMonitorStatusTotal",
  TotalStatusIdle: "GlideinMonitorTotalStatusIdle",
  TotalStatusRunning: "GlideinMonitorTotalStatusRunning",
  TotalStatusHeld: "GlideinMonitorTotalStatusHeld",
  RequestedIdle: "GlideinMonitorRequestedIdle",
  RequestedMaxGlideins: "GlideinMonitorRequestedMaxGlideins",
  LimitsHit: "GlideinMonitorLimitsHit",
  FailedPilots: "GlideinMonitorFailedPilots",
  FinishedPilots: "GlideinMonitorFinishedPilots",
} as const;

/** One factory entry, as frontends match against it. */
export const GLIDE_FACTORY = {
  EntryName: "EntryName",
  FactoryName: "FactoryName",
  GridType: "GLIDEIN_GridType",
  Gatekeeper: "GLIDEIN_Gatekeeper",
  InDowntime: "GLIDEIN_In_Downtime",
  PubKeyType: "PubKeyType",
  PubKeyValue: "PubKeyValue",
  PubKeyID: "PubKeyID",
  TrustDomain: "GLIDEIN_TrustDomain",
  TotalStatusIdle: "GlideinMonitorTotalStatusIdle",
  TotalStatusRunning: "GlideinMonitorTotalStatusRunning",
  TotalStatusHeld: "GlideinMonitorTotalStatusHeld",
  SubmitFailures: "GlideinMonitorSubmitFailures",
  SubmitBackoffUntil: "GlideinSubmitBackoffUntil",
  SubmitLastError: "GlideinSubmitLastError",
  ValidationFailures: "GlideinMonitorValidationFailures",
  ValidationBackoffUntil: "GlideinValidationBackoffUntil",
  ValidationLastFailure: "GlideinValidationLastFailure",
} as const;

/** A frontend group's view of one entry (monitoring). */
export const GLIDE_RESOURCE = {
  GlideClientName: "GlideClientName",
  FrontendName: "FrontendName",
  GroupName: "GroupName",
  GlideFactoryEntry: "GlideFactoryEntry",
  InDowntime: "GlideFactoryMonitorInDowntime",
  JobsIdle: "GlideClientMonitorJobsIdle",
  JobsIdleMatching: "GlideClientMonitorJobsIdleMatching",
  JobsIdleEffective: "GlideClientMonitorJobsIdleEffective",
  JobsIdleUnique: "GlideClientMonitorJobsIdleUnique",
  GlideinsIdle: "GlideClientMonitorGlideinsIdle",
  GlideinsRunning: "GlideClientMonitorGlideinsRunning",
  GlideinsHeld: "GlideClientMonitorGlideinsHeld",
  GlideinsTotal: "GlideClientMonitorGlideinsTotal",
  GlideinsRequestIdle: "GlideClientMonitorGlideinsRequestIdle",
  GlideinsRequestMaxRun: "GlideClientMonitorGlideinsRequestMaxRun",
  LimitsTriggered: "GlideClientLimitsTriggered",
  LimitPrefix: "GlideClientLimit_",
  CurbPrefix: "GlideClientCurb_",
  MatchErrors: "GlideClientMatchErrors",
  MatchExpr: "GlideClientMatchExpr",
} as const;

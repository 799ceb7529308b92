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
  PilotCredential: "PilotCredential",
} as const;

/** Attributes every ad carries. */
export const COMMON = {
  MyType: "MyType",
  Name: "Name",
  ClassAdLifetime: "ClassAdLifetime",
  AuthenticatedIdentity: "AuthenticatedIdentity",
  /** Stamped by the collector on every ad it stores. */
  LastHeardFrom: "LastHeardFrom",
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
  /** The frontend's bearer token for submitting to the entry's CE (audience the CE), encrypted. */
  EncSubmitToken: "GlideinEncParamSubmitToken",
  CredentialType: "GlideinCredentialType",
  SecurityClass: "GlideinSecurityClass",
  TrustDomain: "GlideinTrustDomain",
  /** `GlideinParam<X>`: passed to the pilot as `X`. */
  ParamPrefix: "GlideinParam",
  /** Comma lists of the VO attributes among the parameters: expression text, Slot ad, job env. */
  ExprAttrs: "GlideinExprAttrs",
  PublishAttrs: "GlideinPublishAttrs",
  JobPublishAttrs: "GlideinJobPublishAttrs",
  /** The frontend's start expression, as text; the pilot makes it its START. */
  Start: "GLIDEIN_Start",
  FactoryPubKeyID: "FactoryPubKeyID",
} as const;

/**
 * The pilot settings a frontend sends as `GlideinParam<X>` in its GlideClient ads: the factory
 * takes them as the pilot's settings (not as VO attributes) and the pilot reads each as the
 * environment variable `X`, glideinWMS's names for them.
 */
export const GLIDEIN_PARAM = {
  Collector: "GLIDEIN_Collector",
  Schedds: "GLIDEIN_Schedds",
  MaxWalltime: "GLIDEIN_Max_Walltime",
  RetireTime: "GLIDEIN_Retire_Time",
  MaxIdle: "GLIDEIN_Max_Idle",
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
  /** `Class:count,...` of the failed pilots (glideinWMS's failure classes). */
  FailedByClass: "GlideinMonitorFailedByClass",
  /** The last failure's class and last line, for the pool page. */
  LastFailure: "GlideinMonitorLastFailure",
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
  /**
   * Core-seconds of the entry's running pilots since the factory's database began, goodput's
   * denominator; only grows.
   */
  PilotCoreSeconds: "GlideinMonitorPilotCoreSeconds",
  /** A list of `[ Time; Client; FailureClass; Message ]`: the entry's last failed pilots, newest first. */
  RecentFailures: "GlideinMonitorRecentFailures",
  /** Published by the entry when its pilots have more than one CPU. */
  GlideinCpus: "GLIDEIN_CPUS",
  /** Published by the entry: the site's name. */
  Site: "GLIDEIN_Site",
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
  /** The VO scripts and job wrapper the group sends its pilots, one `; `-separated line. */
  VoScripts: "GlideClientVOScripts",
} as const;

/**
 * What a pilot's validation finds on its node and its Slot ad carries, named as HTCondor's startd
 * names them (`OpSysMajorVer` 9, `OpSysVer` 904 for 9.4).
 */
export const NODE = {
  Arch: "Arch",
  OpSys: "OpSys",
  OpSysName: "OpSysName",
  OpSysMajorVer: "OpSysMajorVer",
  OpSysVer: "OpSysVer",
  OpSysAndVer: "OpSysAndVer",
  OpSysLongName: "OpSysLongName",
  /** What validation counted, before any VO or factory limit (glideinWMS's GLIDEIN_CPUS etc.). */
  DetectedCpus: "DetectedCpus",
  DetectedMemory: "DetectedMemory",
  DetectedDisk: "DetectedDisk",
  DetectedGPUs: "DetectedGPUs",
  /** Where the CPU and memory counts came from (cgroup, batch system, /proc, ...). */
  CpusSource: "GLIDEIN_CPUS_Source",
  MemorySource: "GLIDEIN_Memory_Source",
  GpusSource: "GLIDEIN_GPUS_Source",
  /** The pilot's credential as validation read it: identity, end, renewal limit, time left. */
  CredentialIdentity: "GLIDEIN_Credential_Identity",
  CredentialNotAfter: "GLIDEIN_Credential_NotAfter",
  CredentialRenewUntil: "GLIDEIN_Credential_RenewUntil",
  CredentialTimeLeft: "GLIDEIN_Credential_TimeLeft",
  HasSingularity: "HAS_SINGULARITY",
  SingularityPath: "SINGULARITY_PATH",
  SingularityVersion: "SINGULARITY_VERSION",
} as const;

/** A pilot's partitionable slot, as HTCondor's startd and glideinWMS's glidein name it. */
export const SLOT = {
  Machine: "Machine",
  PilotId: "GLIDEIN_PILOT_ID",
  SlotType: "SlotType",
  PartitionableSlot: "PartitionableSlot",
  Cpus: "Cpus",
  Memory: "Memory",
  Disk: "Disk",
  GPUs: "GPUs",
  TotalCpus: "TotalCpus",
  TotalMemory: "TotalMemory",
  TotalDisk: "TotalDisk",
  TotalGPUs: "TotalGPUs",
  TotalSlotCpus: "TotalSlotCpus",
  TotalSlotMemory: "TotalSlotMemory",
  TotalSlotDisk: "TotalSlotDisk",
  TotalSlotGPUs: "TotalSlotGPUs",
  NumDynamicSlots: "NumDynamicSlots",
  /** A dynamic slot (one running job's share of the partitionable slot), as HTCondor's. */
  DynamicSlot: "DynamicSlot",
  SlotID: "SlotID",
  JobId: "JobId",
  RemoteOwner: "RemoteOwner",
  RemoteUser: "RemoteUser",
  EnteredCurrentActivity: "EnteredCurrentActivity",
  /** The GPUs a dynamic slot holds, as HTCondor names them (`CUDA0,CUDA1`). */
  AssignedGPUs: "AssignedGPUs",
  /** The partitionable slot's roll-up of its dynamic slots: one list element per child. */
  ChildName: "ChildName",
  ChildCpus: "ChildCpus",
  ChildMemory: "ChildMemory",
  ChildGPUs: "ChildGPUs",
  ChildRemoteOwner: "ChildRemoteOwner",
  ChildState: "ChildState",
  ChildActivity: "ChildActivity",
  State: "State",
  Activity: "Activity",
  ToRetire: "GLIDEIN_ToRetire",
  ToDie: "GLIDEIN_ToDie",
  DaemonStartTime: "DaemonStartTime",
  MyCurrentTime: "MyCurrentTime",
  TimeToLive: "TimeToLive",
  Start: "START",
  Requirements: "Requirements",
  /** Set while black-hole detection is on: whether the node was judged one, and why. */
  BlackHole: "GLIDEIN_BLACKHOLE",
  BlackHoleReason: "GLIDEIN_BLACKHOLE_REASON",
  /** A pilot that failed validation and keeps its batch slot meanwhile (glideinWMS's names). */
  Failed: "GLIDEIN_Failed",
  ExitCode: "GLIDEIN_EXIT_CODE",
  FailureClass: "GLIDEIN_FAILURE_CLASS",
  FailureReason: "GLIDEIN_FAILURE_REASON",
  /** Published by the factory and the frontend (through the pilot's settings). */
  EntryName: "GLIDEIN_Entry_Name",
  GlideinName: "GLIDEIN_Name",
  Factory: "GLIDEIN_Factory",
  Frontend: "GLIDEIN_Frontend",
  Site: "GLIDEIN_Site",
  ClientName: "GLIDECLIENT_Name",
  ClientGroup: "GLIDECLIENT_Group",
  /** The pilot's renewal key (base64 SPKI DER, RSA): renewed tokens are sealed to it. */
  RenewalKey: "UpdraftRenewalKey",
  /** When the token the pilot holds now expires (seconds since the epoch), as the pilot says. */
  CredentialExpiry: "UpdraftCredentialExpiry",
  /** The pilot token's binding claim as JSON, stamped by the collector from the verified token. */
  PilotBinding: "UpdraftPilotBinding",
} as const;

/**
 * A renewed pilot token or per-pilot proxy, written by the frontend that issued it: `Name` is the
 * pilot's `pilot-<id>` (a token's `sub`); the token travels sealed to the pilot's renewal key and
 * the proxy is certified for it, so the ad is readable by anyone with `read` and useful to that
 * pilot alone.
 */
export const PILOT_CREDENTIAL = {
  SealedToken: "UpdraftSealedToken",
  /**
   * A renewed per-pilot proxy: its certificate then the chain that signed it (PEM, no key; the
   * pilot holds the key), as a ClassAd string.
   */
  ProxyChain: "UpdraftProxyChain",
  /**
   * The renewed token's `exp` or proxy's notAfter (seconds since the epoch), so a pilot can skip
   * one it has.
   */
  NotAfter: "UpdraftTokenNotAfter",
  /**
   * The schedds the pilot's group pulls jobs from now, a comma list as `GLIDEIN_Schedds`: a
   * pilot adds those its renewed token's audience names, so it reaches schedds found after it
   * was submitted.
   */
  Schedds: "UpdraftSchedds",
} as const;

/**
 * The pilot's variable naming the frontend whose `PilotCredential` ads it takes: the factory sets
 * it to the `AuthenticatedIdentity` of the GlideClient ad the pilot was submitted for.
 */
export const FRONTEND_IDENTITY_ENV = "UPDRAFT_FRONTEND_IDENTITY";

/** A job's ad in the schedd's queue, as HTCondor spells it (submit, queue, pilot and frontend). */
export const JOB = {
  ClusterId: "ClusterId",
  ProcId: "ProcId",
  Owner: "Owner",
  /** The owner as the pilot's lease ad names it; the pilot falls back to `Owner`. */
  User: "User",
  JobStatus: "JobStatus",
  Cmd: "Cmd",
  Arguments: "Arguments",
  Requirements: "Requirements",
  RequestCpus: "RequestCpus",
  RequestMemory: "RequestMemory",
  RequestDisk: "RequestDisk",
  RequestGPUs: "RequestGPUs",
  QDate: "QDate",
  EnteredCurrentStatus: "EnteredCurrentStatus",
  JobCurrentStartDate: "JobCurrentStartDate",
  RemoteWallClockTime: "RemoteWallClockTime",
  RemoteHost: "RemoteHost",
  /** The factory of the pilot running the job (its slot's GLIDEIN_Factory), set at the claim. */
  MatchGlideinFactory: "MATCH_GLIDEIN_Factory",
  HoldReason: "HoldReason",
  JobBatchName: "JobBatchName",
  JobPrio: "JobPrio",
  Rank: "Rank",
  ImageSize: "ImageSize",
  TotalSubmitProcs: "TotalSubmitProcs",
  JobNotification: "JobNotification",
  /** Late materialization: the most jobs of the cluster in the queue, and the most idle. */
  JobMaterializeLimit: "JobMaterializeLimit",
  JobMaterializeMaxIdle: "JobMaterializeMaxIdle",
  // The exit policy the schedd evaluates when a job ends.
  OnExitHold: "OnExitHold",
  OnExitHoldReason: "OnExitHoldReason",
  OnExitHoldSubCode: "OnExitHoldSubCode",
  OnExitRemove: "OnExitRemove",
  JobMaxRetries: "JobMaxRetries",
  MaxRetries: "MaxRetries",
  SuccessExitCode: "SuccessExitCode",
  PeriodicHold: "PeriodicHold",
  PeriodicHoldReason: "PeriodicHoldReason",
  PeriodicHoldSubCode: "PeriodicHoldSubCode",
  PeriodicRelease: "PeriodicRelease",
  PeriodicRemove: "PeriodicRemove",
  // State-change bookkeeping the schedd keeps and the user log reads.
  LastJobStatus: "LastJobStatus",
  NumJobStarts: "NumJobStarts",
  NumJobCompletions: "NumJobCompletions",
  NumRestarts: "NumRestarts",
  NumHolds: "NumHolds",
  JobStartDate: "JobStartDate",
  JobLastStartDate: "JobLastStartDate",
  LastJobRunTime: "LastJobRunTime",
  LastRemoteHost: "LastRemoteHost",
  HoldReasonCode: "HoldReasonCode",
  HoldReasonSubCode: "HoldReasonSubCode",
  LastHoldReason: "LastHoldReason",
  ReleaseReason: "ReleaseReason",
  VacateReason: "VacateReason",
  LastVacateTime: "LastVacateTime",
  RemoveReason: "RemoveReason",
  NumInputTransferFailures: "NumInputTransferFailures",
  CompletionDate: "CompletionDate",
  ExitCode: "ExitCode",
  ExitBySignal: "ExitBySignal",
  ExitSignal: "ExitSignal",
  RemoteUserCpu: "RemoteUserCpu",
  RemoteSysCpu: "RemoteSysCpu",
  // What submit writes about the job's files.
  UserLog: "UserLog",
  TransferredOutputFiles: "TransferredOutputFiles",
  TargetType: "TargetType",
  JobUniverse: "JobUniverse",
  Iwd: "Iwd",
  Environment: "Environment",
  In: "In",
  Out: "Out",
  Err: "Err",
  TransferExecutable: "TransferExecutable",
  TransferInput: "TransferInput",
  TransferOutput: "TransferOutput",
  TransferOutputRemaps: "TransferOutputRemaps",
  PreserveRelativePaths: "PreserveRelativePaths",
  ShouldTransferFiles: "ShouldTransferFiles",
  WhenToTransferOutput: "WhenToTransferOutput",
  ScitokensFile: "ScitokensFile",
  /** The job's proxy as the submit file named it, which travels in its input sandbox. */
  X509UserProxy: "x509userproxy",
  // Who submitted the job and with what credential: written by the schedd alone.
  AuthenticatedIdentity: "AuthenticatedIdentity",
  X509UserProxySubject: "x509userproxysubject",
  X509UserProxyEmail: "x509UserProxyEmail",
  X509UserProxyVOName: "x509UserProxyVOName",
  X509UserProxyFirstFQAN: "x509UserProxyFirstFQAN",
  X509UserProxyFQAN: "x509UserProxyFQAN",
  X509UserProxyExpiration: "x509UserProxyExpiration",
  AuthTokenSubject: "AuthTokenSubject",
  AuthTokenIssuer: "AuthTokenIssuer",
  AuthTokenGroups: "AuthTokenGroups",
  AuthTokenId: "AuthTokenId",
  AuthTokenScopes: "AuthTokenScopes",
} as const;

/** A schedd's ad: where it listens and its queue's totals. */
export const SCHEDULER = {
  ScheddIpAddr: "ScheddIpAddr",
  MyAddress: "MyAddress",
  DaemonStartTime: "DaemonStartTime",
  LastHeardFrom: "LastHeardFrom",
  TotalIdleJobs: "TotalIdleJobs",
  TotalRunningJobs: "TotalRunningJobs",
  TotalHeldJobs: "TotalHeldJobs",
  NumUsers: "NumUsers",
  /** A list of `[ Name; IdleJobs; RunningJobs; HeldJobs ]`, one per owner with jobs. */
  Submitters: "Submitters",
  /**
   * A list of `[ Name; Factory; JobCpuSeconds ]`, one per factory entry whose pilots ran jobs
   * here: the jobs' CPU seconds (user and system) since the schedd started, for goodput.
   * `Factory` is absent for pilots that did not name theirs.
   */
  JobCpuByEntry: "JobCpuByEntry",
} as const;

/** One item of a Scheduler ad's `Submitters`: an owner with jobs and its counts. */
export const SUBMITTER = {
  Name: "Name",
  IdleJobs: "IdleJobs",
  RunningJobs: "RunningJobs",
  HeldJobs: "HeldJobs",
} as const;

/** One item of a Scheduler ad's `JobCpuByEntry`: a factory entry and its jobs' CPU seconds. */
export const ENTRY_JOB_CPU = {
  Name: "Name",
  Factory: "Factory",
  JobCpuSeconds: "JobCpuSeconds",
} as const;

/** The collector's own ad. */
export const COLLECTOR = {
  DaemonStartTime: "DaemonStartTime",
  UpdatesTotal: "UpdatesTotal",
  UpdatesLastMinute: "UpdatesLastMinute",
  UpdatesPerSecond: "UpdatesPerSecond",
  TotalAds: "TotalAds",
  /** `<type>Ads`: how many ads of that type the collector holds. */
  AdsSuffix: "Ads",
} as const;

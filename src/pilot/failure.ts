/**
 * Failure classes as glideinWMS names them, so factory operators read pilot failures the way they
 * read glidein failures: the class says whose problem it is (site node, network, config, VO).
 */
export const FAILURE_CLASSES = [
  "WN_Resource",
  "Network",
  "Config",
  "VO_Config",
  "VO_Proxy",
  "Corruption",
  /** Not a validation class: the node ended every job within seconds (see black-hole.ts). */
  "BlackHole",
] as const;

export type FailureClass = (typeof FAILURE_CLASSES)[number];

export interface PilotFailure {
  class: FailureClass;
  message: string;
}

/** Attribute values a check publishes into the slot ad. */
export type AttrValue = string | number | boolean;
export type Attrs = Record<string, AttrValue>;

/** What one validation check returns: attributes to publish, or the failure that stops the pilot. */
export type CheckResult = { ok: true; attrs: Attrs } | { ok: false; failure: PilotFailure };

export const pass = (attrs: Attrs = {}): CheckResult => ({ ok: true, attrs });
export const fail = (cls: FailureClass, message: string): CheckResult => ({
  ok: false,
  failure: { class: cls, message },
});

export function isFailureClass(s: unknown): s is FailureClass {
  return typeof s === "string" && (FAILURE_CLASSES as readonly string[]).includes(s);
}

/** Process exit code per class, so a batch system's accounting alone tells classes apart. */
export const EXIT_CODES: Record<FailureClass, number> = {
  WN_Resource: 11,
  Network: 12,
  Config: 13,
  VO_Config: 14,
  VO_Proxy: 15,
  Corruption: 16,
  BlackHole: 17,
};

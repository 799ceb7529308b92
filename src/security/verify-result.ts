/** The outcome of chain verification: stable failure codes that callers may branch on. */
import type { PilotBinding } from "./pilot-binding.js";

/** Every refusal code; src/security/README.md explains each one. */
export const VERIFY_FAILURE_CODES = [
  "empty-chain",
  "malformed",
  "unknown-issuer",
  "bad-signature",
  "expired",
  "not-yet-valid",
  "revoked",
  "ca-as-client",
  "bad-proxy-subject",
  "proxy-info-missing",
  "proxy-policy",
  "bad-proxy",
  "path-length",
  "legacy-proxy",
  "limited-proxy",
  "key-usage",
  "critical-extension",
  "namespace",
  "weak-key",
  "weak-signature",
  "crl-invalid",
  "crl-expired",
] as const;

export type VerifyFailureCode = (typeof VERIFY_FAILURE_CODES)[number];

export type VerifyResult =
  | {
      ok: true;
      identity: string;
      limited: boolean;
      proxyDepth: number;
      notAfter: Date;
      /** What a per-pilot proxy's policy says the pilot is for (see verify-rules.ts). */
      pilotBinding?: PilotBinding;
    }
  | { ok: false; code: VerifyFailureCode; reason: string };

export type VerifyFailure = Extract<VerifyResult, { ok: false }>;

export const fail = (code: VerifyFailureCode, reason: string): VerifyFailure => ({
  ok: false,
  code,
  reason,
});

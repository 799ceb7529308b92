/**
 * The catalogue of errors raised off the wire (the wire has its own, `src/wire/errors.ts`). Each
 * error class carries a stable `code` from this list; callers branch on the code with
 * `hasErrorCode`, never on a class name or the message text, which may change. Every code is
 * documented in docs/errors.md with what to do about it (a test checks both ways).
 */
export const ERROR_CODES = {
  // configuration
  "config-invalid": "configuration",
  "snapshot-invalid": "configuration",
  "pilot-config": "configuration",
  "tls-file": "configuration",
  "vo-script": "configuration",
  "mapfile-invalid": "configuration",
  // ClassAd language
  "classad-syntax": "classad",
  // security
  "trust-invalid": "security",
  "ca-dir": "security",
  "proxy-invalid": "security",
  "cert-invalid": "security",
  "dn-invalid": "security",
  "dn-pattern-invalid": "security",
  "ca-policy-invalid": "security",
  "der-invalid": "security",
  "bad-format": "security",
  "unsupported-version": "security",
  "wrong-key": "security",
  tampered: "security",
  "token-keys": "security",
  "key-invalid": "security",
  "revoked-pilots": "security",
  "cert-issue": "security",
  "client-credential": "security",
  // grid adapters
  "arc-http": "adapter",
  "arc-protocol": "adapter",
  "arc-job-description": "adapter",
  "arc-delegation": "adapter",
  "arc-credential": "adapter",
  "slurm-command": "adapter",
  "slurm-answer": "adapter",
  "slurm-script": "adapter",
  "arc-settings": "adapter",
  "arc-journal": "adapter",
  // daemons
  "migration-failed": "storage",
  "sandbox-invalid": "schedd",
  "sandbox-full": "schedd",
  "watch-fell-behind": "collector",
  "batch-malformed": "collector",
  "pilot-no-connector": "pilot",
  "input-transfer": "pilot",
  "slot-refused": "pilot",
  "credential-batch": "factory",
  "runtime-stage": "factory",
  "pilot-install": "factory",
  "tar-path": "factory",
  "staging-file": "factory",
  "job-wrapper-missing": "factory",
  "ce-token-unfit": "frontend",
  "renewal-ended": "frontend",
  "pilot-proxy": "frontend",
  // files read with a bound
  "file-too-large": "input",
  // command line
  "cli-failure": "cli",
  "cli-no-pool": "cli",
  "pool-start": "cli",
  "user-log-foreign": "cli",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorArea = (typeof ERROR_CODES)[ErrorCode];

/** Base of every catalogued error: a message for people and a stable code for programs. */
export abstract class UpdraftError extends Error {
  abstract readonly code: ErrorCode;

  get area(): ErrorArea {
    return ERROR_CODES[this.code];
  }
}

/** Whether `err` is a catalogued error with one of `codes`. */
export function hasErrorCode<C extends ErrorCode>(
  err: unknown,
  ...codes: C[]
): err is UpdraftError & { code: C } {
  return err instanceof UpdraftError && (codes as string[]).includes(err.code);
}

/**
 * The wire's error catalogue. Every failure a caller can see has a stable `code`; code outside the
 * wire branches on it with `hasWireCode` / `isWireError` (never on a class name or the message). Each code is documented in src/wire/README.md
 * (a test checks that), and has a WebSocket close code for the cases that end a connection.
 */

/** Stable error codes, in the order of their close codes (4000 + index). */
export const WIRE_ERROR_CODES = [
  "internal",
  "unauthenticated",
  "permission-denied",
  "unknown-method",
  "deadline-exceeded",
  "cancelled",
  "frame-too-large",
  "malformed-frame",
  "too-many-calls",
  "unavailable",
  "invalid-argument",
  "not-found",
  "already-exists",
  "resource-exhausted",
  "idle-timeout",
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

const CLOSE_CODE_BASE = 4000;

/** Base class: a failure with a stable code and optional structured details. */
export class WireError extends Error {
  readonly code: WireErrorCode;
  readonly details: Readonly<Record<string, string>>;

  constructor(code: WireErrorCode, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = "WireError";
    this.code = code;
    this.details = details;
  }

  /** The WebSocket close code used when this error ends a connection (4000-4999: private use). */
  get closeCode(): number {
    return closeCodeFor(this.code);
  }
}

function defineError(code: WireErrorCode, name: string) {
  const cls = class extends WireError {
    constructor(message: string, details: Record<string, string> = {}) {
      super(code, message, details);
      this.name = name;
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

export const InternalError = defineError("internal", "InternalError");
export const UnauthenticatedError = defineError("unauthenticated", "UnauthenticatedError");
export const PermissionDeniedError = defineError("permission-denied", "PermissionDeniedError");
export const UnknownMethodError = defineError("unknown-method", "UnknownMethodError");
export const DeadlineExceededError = defineError("deadline-exceeded", "DeadlineExceededError");
export const CancelledError = defineError("cancelled", "CancelledError");
export const FrameTooLargeError = defineError("frame-too-large", "FrameTooLargeError");
export const MalformedFrameError = defineError("malformed-frame", "MalformedFrameError");
export const TooManyCallsError = defineError("too-many-calls", "TooManyCallsError");
export const UnavailableError = defineError("unavailable", "UnavailableError");
export const InvalidArgumentError = defineError("invalid-argument", "InvalidArgumentError");
export const NotFoundError = defineError("not-found", "NotFoundError");
export const AlreadyExistsError = defineError("already-exists", "AlreadyExistsError");
export const ResourceExhaustedError = defineError("resource-exhausted", "ResourceExhaustedError");
export const IdleTimeoutError = defineError("idle-timeout", "IdleTimeoutError");

const classes: Record<WireErrorCode, new (m: string, d?: Record<string, string>) => WireError> = {
  internal: InternalError,
  unauthenticated: UnauthenticatedError,
  "permission-denied": PermissionDeniedError,
  "unknown-method": UnknownMethodError,
  "deadline-exceeded": DeadlineExceededError,
  cancelled: CancelledError,
  "frame-too-large": FrameTooLargeError,
  "malformed-frame": MalformedFrameError,
  "too-many-calls": TooManyCallsError,
  unavailable: UnavailableError,
  "invalid-argument": InvalidArgumentError,
  "not-found": NotFoundError,
  "already-exists": AlreadyExistsError,
  "resource-exhausted": ResourceExhaustedError,
  "idle-timeout": IdleTimeoutError,
};

/** Whether `err` is a wire error with one of `codes`. */
export function hasWireCode<C extends WireErrorCode>(
  err: unknown,
  ...codes: C[]
): err is WireError & { code: C } {
  return err instanceof WireError && (codes as string[]).includes(err.code);
}

/** Whether `err` is a wire error of any code (a failed call, as opposed to a local failure). */
export function isWireError(err: unknown): err is WireError {
  return err instanceof WireError;
}

export function isWireErrorCode(code: string): code is WireErrorCode {
  return Object.hasOwn(classes, code);
}

/**
 * Rebuild a typed error from what a peer sent. A code this build does not know (a newer peer)
 * becomes `internal`, keeping the peer's code in `details.remoteCode` so nothing is lost.
 */
export function errorFromWire(
  code: string,
  message: string,
  details: Record<string, string> = {},
): WireError {
  if (isWireErrorCode(code)) return new classes[code](message, details);
  return new InternalError(message, { ...details, remoteCode: code });
}

/** Wrap anything a handler threw: WireErrors pass through, the rest become `internal`. */
export function toWireError(err: unknown): WireError {
  if (err instanceof WireError) return err;
  // The handler's own message may hold local detail (paths, SQL); peers get a generic one.
  return new InternalError("internal error");
}

export function closeCodeFor(code: WireErrorCode): number {
  return CLOSE_CODE_BASE + WIRE_ERROR_CODES.indexOf(code);
}

/** The error a WebSocket close code stands for, or undefined for standard (1xxx) codes. */
export function codeForClose(closeCode: number): WireErrorCode | undefined {
  if (closeCode === 1009) return "frame-too-large"; // ws's own "message too big"
  return WIRE_ERROR_CODES[closeCode - CLOSE_CODE_BASE];
}

import type { Command } from "commander";
import { hasErrorCode, UpdraftError } from "../common/errors.js";
import { EXIT, isSystemError } from "../common/exit-codes.js";

/**
 * An error meant for the person at the terminal: printed as one line without a stack trace,
 * exiting with `exitCode`.
 */
export class CliError extends UpdraftError {
  readonly code = "cli-failure";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * The one mapping from what a command's work throws to what the person at the terminal sees: a
 * configuration problem (or a VO script it names that cannot be used) exits 78 (EX_CONFIG) listing
 * every problem; a failed system call (a port
 * in use, a missing or unreadable file, a certificate, key or trust directory that cannot be
 * used) exits 71 (EX_OSERR) naming `what` failed; a CliError
 * passes as it is. Anything else is a bug and is rethrown to keep its stack.
 */
export function toCliError(err: unknown, what: string): CliError {
  if (err instanceof CliError) return err;
  if (hasErrorCode(err, "config-invalid")) return new CliError(err.message, EXIT.config);
  // A VO script the configuration names is part of it: unusable, it is a configuration problem.
  if (hasErrorCode(err, "vo-script")) return new CliError(`${what}: ${err.message}`, EXIT.config);
  // A certificate, key or trust directory that cannot be used is a file the daemon may not read.
  if (isSystemError(err) || hasErrorCode(err, "tls-file", "trust-invalid")) {
    return new CliError(`${what}: ${err.message}`, EXIT.os);
  }
  throw err;
}

/** Run `work`, turning its failures into CliErrors with `toCliError`. */
export async function withCliErrors<T>(what: string, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toCliError(err, what);
  }
}

/** The same for work that must stay synchronous. */
export function withCliErrorsSync<T>(what: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    throw toCliError(err, what);
  }
}

/** Print CliErrors plainly and exit non-zero; anything else is a bug and keeps its stack. */
export function registerFailureHandling(program: Command): void {
  process.on("uncaughtException", (err) => {
    if (err instanceof CliError) {
      process.stderr.write(`${program.name()}: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`${program.name()}: internal error: ${err.stack ?? String(err)}\n`);
    process.exit(EXIT.software);
  });
  process.on("unhandledRejection", (err) => {
    throw err;
  });
}

import type { Command } from "commander";

/**
 * An error meant for the person at the terminal: printed as one line without a stack trace,
 * exiting with `exitCode`.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
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
    process.exit(70);
  });
  process.on("unhandledRejection", (err) => {
    throw err;
  });
}

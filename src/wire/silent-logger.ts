/**
 * The logger used when the caller gives none: pino writing to a no-op stream (pino's default
 * destination opens stdout and registers exit hooks, too costly for every client). Built once:
 * a silent logger has no state worth keeping apart.
 */
import { pino, type Logger } from "pino";

let silent: Logger | undefined;

export function silentLogger(): Logger {
  silent ??= pino({ level: "silent" }, { write() {} });
  return silent;
}

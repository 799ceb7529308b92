/**
 * The logger used when the caller gives none. A pino instance writing to a no-op stream: pino's
 * default destination opens stdout and registers exit hooks, too costly for every client.
 */
import { pino, type Logger } from "pino";

export function silentLogger(): Logger {
  return pino({ level: "silent" }, { write() {} });
}

import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

/**
 * Attribute paths whose values are credentials. pino replaces them before anything is written, so a
 * proxy or key that ends up in a log call by mistake never reaches the log.
 */
export const REDACTED_PATHS = [
  "keyPem",
  "*.keyPem",
  "credential",
  "*.credential",
  "password",
  "*.password",
  "proxy",
  "*.proxy",
  "privateKey",
  "*.privateKey",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
];

export interface LoggerOptions {
  /** Daemon name, e.g. "collector"; becomes the `daemon` field of every line. */
  name: string;
  level?: string;
  /** Where lines go; standard output by default. */
  destination?: DestinationStream;
}

/** The root logger of a daemon: JSON lines, credentials redacted, errors logged as `{ err }`. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      base: { daemon: opts.name, pid: process.pid },
      level: opts.level ?? process.env.UPDRAFT_LOG_LEVEL ?? "info",
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      serializers: { err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}

import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

/**
 * Attribute names whose values are credentials, wherever they stand in a log call's object: at
 * its top, one object down (`{ cred: { proxy } }`, an error's own `token`), and a request's
 * `req.headers.authorization`. They are replaced before anything is written, so a proxy or key
 * that ends up in a log call by mistake never reaches the log.
 */
export const REDACTED_NAMES: readonly string[] = [
  "keyPem",
  "credential",
  "password",
  "proxy",
  "privateKey",
  "token",
  "authorization",
];
const CENSOR = "[redacted]";

/**
 * `obj` with credential values replaced, copied only where one is found. This is what pino's
 * `redact` did with `NAME` and `*.NAME` paths, but without its wildcard stringifier, which ran
 * over every value of every line and cost more than the rest of writing the line.
 */
export function redacted<T extends object>(obj: T): T {
  let out: Record<string, unknown> | undefined;
  const src = obj as Record<string, unknown>;
  for (const k in src) {
    if (!Object.hasOwn(src, k)) continue;
    const v = src[k];
    if (v === undefined || v === null) continue;
    let next: unknown = v;
    if (REDACTED_NAMES.includes(k)) next = CENSOR;
    else if (typeof v === "object") {
      next = withoutSecrets(v);
      const headers = k === "req" ? (next as { headers?: unknown }).headers : undefined;
      if (typeof headers === "object" && headers !== null) {
        const h = withoutSecrets(headers);
        if (h !== headers) next = copyWith(next as object, "headers", h);
      }
    }
    if (next !== v) (out ??= { ...src })[k] = next;
  }
  return (out ?? obj) as T;
}

/** `v` with its own credential-named properties censored (a copy keeping its prototype). */
function withoutSecrets(v: object): object {
  let out = v;
  for (const name of REDACTED_NAMES) {
    if (Object.hasOwn(v, name) && (v as Record<string, unknown>)[name] !== undefined) {
      out = copyWith(out, name, CENSOR);
    }
  }
  return out;
}

/** A copy of `v` (an Error stays an Error, with its message and stack) with `name` set. */
function copyWith(v: object, name: string, value: unknown): object {
  const copy = Object.create(
    Object.getPrototypeOf(v) as object | null,
    Object.getOwnPropertyDescriptors(v),
  ) as object;
  Object.defineProperty(copy, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

export interface LoggerOptions {
  /** Daemon name, e.g. "collector"; becomes the `daemon` field of every line. */
  name: string;
  level?: string;
  /** Where lines go; standard output by default. */
  destination?: DestinationStream;
  /**
   * Lines to standard output leave together at the end of the event loop's turn, or at
   * `logger.flush()`, instead of one write(2) each (see `turnBatched`).
   */
  batched?: boolean;
}

/** The root logger of a daemon: JSON lines, credentials redacted, errors logged as `{ err }`. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      base: { daemon: opts.name, pid: process.pid },
      level: opts.level ?? process.env.UPDRAFT_LOG_LEVEL ?? "info",
      // Names at the top (child bindings included) through pino's own redaction, which costs
      // nothing for other names; one object down through `redacted`.
      redact: { paths: [...REDACTED_NAMES, "req.headers.authorization"], censor: CENSOR },
      formatters: { log: redacted },
      serializers: { err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ??
      (opts.batched ? turnBatched(pino.destination({ dest: 1, sync: true })) : undefined),
  );
}

/**
 * A destination that holds lines until the end of the turn of the event loop they were written
 * in (or until `flush`, or 64 KiB, or the process's exit), then writes them in one call. A
 * daemon that calls `logger.flush()` before it acknowledges a change has the change's log lines
 * written first, as with one write per line; what a SIGKILL can lose is the lines of the turn
 * under way, which no caller has been answered for yet, bar refusals answered in that turn.
 */
export function turnBatched(out: { write(s: string): unknown; flushSync(): void }): {
  write(line: string): void;
  flush(cb?: (err?: Error) => void): void;
} {
  let held: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearImmediate(timer);
    timer = undefined;
    if (held.length === 0) return;
    const text = held.join("");
    held = [];
    bytes = 0;
    out.write(text);
  };
  process.once("exit", () => {
    flush();
    out.flushSync();
  });
  return {
    write(line) {
      held.push(line);
      bytes += line.length;
      if (bytes >= 65_536) flush();
      else timer ??= setImmediate(flush);
    },
    flush(cb) {
      flush();
      cb?.();
    },
  };
}

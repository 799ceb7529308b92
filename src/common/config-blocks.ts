/**
 * The configuration pieces every daemon shares, so an operator learns one vocabulary: a `tls`
 * block, an `authorization` block, a `collector` block, `log_level`, and durations in seconds
 * under keys ending in `_s`. Daemon schemas build their blocks from these; a test walks every
 * daemon's schema and fails on a block made by hand.
 */
import { z } from "zod";
import { authzConfigSchema } from "../security/authz.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

/** The blocks made here; the schema test asks whether a daemon's `tls` is one of them. */
const sharedBlocks = new WeakSet<z.ZodType>();

function shared<T extends z.ZodType>(schema: T): T {
  sharedBlocks.add(schema);
  return schema;
}

/** True when `schema` is one of the shared blocks made here. */
export function isSharedBlock(schema: z.ZodType): boolean {
  return sharedBlocks.has(schema);
}

/** `log_level`, the same six levels in every daemon. */
export const logLevelKey = z.enum(LOG_LEVELS).default("info");

/** The duration schemas made here; the schema test holds them to keys ending in `_s`. */
const durations = new WeakSet<z.ZodType>();

/** Mark a number schema as a duration in seconds: its key must end in `_s`. */
export function duration<T extends z.ZodNumber>(schema: T): T {
  durations.add(schema);
  return schema;
}

/** True when `schema` was marked with duration(). */
export function isDuration(schema: z.ZodType): boolean {
  return durations.has(schema);
}

/** A duration in seconds, fractions allowed. */
export const durationS = duration(z.number().positive());
/** A duration in whole seconds. */
export const wholeSeconds = duration(z.number().int().positive());
/** A duration in whole seconds where 0 means "never" or "off". */
export const wholeSecondsOrZero = duration(z.number().int().nonnegative());

export const DEFAULT_TRUST_DIR = "/etc/grid-security/certificates";

const tlsKeys = {
  /** The daemon's host certificate (PEM; a chain is allowed). */
  cert_file: z.string().min(1),
  /** Its private key (PEM). */
  key_file: z.string().min(1),
  /** IGTF trust directory: `<hash>.0` CA files and `<hash>.r0` CRLs. */
  trust_dir: z.string().min(1).default(DEFAULT_TRUST_DIR),
  /** Oldest TLS version a listener accepts: 1.3 unless an old peer needs 1.2. */
  min_version: z.enum(["1.2", "1.3"]).default("1.3"),
  /** Each CA signs only inside its `.namespaces`/`.signing_policy` (`enforce`), or anything. */
  ca_namespaces: z.enum(["enforce", "off"]).default("enforce"),
  /** A CRL past its nextUpdate: its CA signs nothing (`refuse`, IGTF practice) or `warn`. */
  crl_expired: z.enum(["refuse", "warn"]).default("refuse"),
};

/**
 * The `tls` block: the daemon's certificate, key and trust directory, plus the other credential
 * kinds a daemon needs (`extra`, e.g. the factory's RSA key pair). Unknown keys are refused.
 */
export function tlsBlock<E extends z.ZodRawShape = Record<never, never>>(extra?: E) {
  return shared(z.object({ ...tlsKeys, ...(extra ?? ({} as E)) }).strict());
}

/**
 * The `tls` block of a second listener a daemon opens (its metrics page, the factory's staging
 * web server): that listener's own certificate and key, where the daemon's may be a client
 * certificate that cannot serve. Peers, if any are verified, are verified against the daemon's
 * `tls.trust_dir`, so the block has none.
 */
export function listenerTlsBlock() {
  return shared(z.object({ cert_file: tlsKeys.cert_file, key_file: tlsKeys.key_file }).strict());
}

/**
 * The `authorization` block: `rules` (identity pattern to roles) and `default_roles` for a valid
 * identity no rule names. The shape is the security layer's own, so it passes straight through.
 */
export const authorizationBlock = shared(authzConfigSchema);

const wssUrl = z.string().regex(/^wss:\/\/\S+$/, "a wss:// URL");

/** Collectors one daemon may name: more is a typo, not high availability. */
export const MAX_COLLECTORS = 16;

/**
 * The `collector` block: where the daemon advertises and reads ads, plus what a daemon needs
 * besides (`extra`, e.g. the schedd's `interval_s`). One collector is `url`; a highly available
 * pool names two or more, each holding every ad, as `urls` (HTCondor's COLLECTOR_HOST list):
 * daemons advertise to all of them and query one, failing over to the next.
 */
export function collectorBlock<E extends z.ZodRawShape = Record<never, never>>(extra?: E) {
  return shared(
    z
      .object({
        url: wssUrl.optional(),
        urls: z.array(wssUrl).max(MAX_COLLECTORS).optional(),
        ...(extra ?? ({} as E)),
      })
      .strict()
      // The generic extra keys hide url and urls from the checker's view of the block.
      .superRefine((block, ctx) => checkCollectorList(block as CollectorUrls, ctx)),
  );
}

interface CollectorUrls {
  url?: string;
  urls?: string[];
}

/** One of url and urls, a list neither empty nor naming a collector twice. */
function checkCollectorList(block: CollectorUrls, ctx: z.RefinementCtx): void {
  if (block.url !== undefined && block.urls !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["urls"],
      message: "give url (one collector) or urls (several), not both",
    });
  } else if (block.url === undefined && block.urls === undefined) {
    ctx.addIssue({ code: "custom", path: ["url"], message: "name the collector: url" });
  } else if (block.urls?.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["urls"],
      message: "the collector list is empty: name at least one wss:// URL",
    });
  }
  const seen = new Set<string>();
  (block.urls ?? []).forEach((url, i) => {
    const key = sameCollectorKey(url);
    if (seen.has(key)) {
      ctx.addIssue({
        code: "custom",
        path: ["urls", i],
        message: `duplicate collector ${url}: each collector is named once`,
      });
    }
    seen.add(key);
  });
}

/** Two spellings of one collector (case of the host, a trailing slash) are one collector. */
function sameCollectorKey(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return url;
  }
}

/** The collector URLs of a validated `collector` block, in the order given. */
export function collectorUrls(block: CollectorUrls): string[] {
  return block.urls ?? (block.url !== undefined ? [block.url] : []);
}

/** Old spellings inside the `authorization` block, for every daemon that has one. */
export const AUTHORIZATION_RENAMES = [
  { from: "authorization.defaultRoles", to: "authorization.default_roles" },
] as const;

/** Defaults of the `connections` block: the wire server's own (src/wire/server.ts). */
export const CONNECTION_DEFAULTS = Object.freeze({
  max_connections: 8192,
  max_connections_per_identity: 1024,
  handshake_timeout_s: 10,
  max_calls_per_connection: 32,
  max_streams_per_connection: 32,
  max_bytes_in_flight_mb: 32,
});

/**
 * The `connections` block of every wire listener: how many authenticated connections it holds in
 * total and per identity, how long a socket may take to authenticate, and what one connection may
 * have running at once (calls, streams such as watches, and request bytes held by them).
 */
export const connectionsBlock = shared(
  z
    .object({
      max_connections: z.number().int().positive().default(CONNECTION_DEFAULTS.max_connections),
      max_connections_per_identity: z
        .number()
        .int()
        .positive()
        .default(CONNECTION_DEFAULTS.max_connections_per_identity),
      handshake_timeout_s: duration(z.number().positive().max(300)).default(
        CONNECTION_DEFAULTS.handshake_timeout_s,
      ),
      max_calls_per_connection: z
        .number()
        .int()
        .positive()
        .max(1024)
        .default(CONNECTION_DEFAULTS.max_calls_per_connection),
      max_streams_per_connection: z
        .number()
        .int()
        .positive()
        .max(1024)
        .default(CONNECTION_DEFAULTS.max_streams_per_connection),
      max_bytes_in_flight_mb: z
        .number()
        .positive()
        .default(CONNECTION_DEFAULTS.max_bytes_in_flight_mb),
    })
    .strict()
    .default(CONNECTION_DEFAULTS),
);

export type ConnectionsConfig = z.output<typeof connectionsBlock>;

/** The wire server's limits from a `connections` block. */
export function serverLimitsFrom(c: ConnectionsConfig) {
  return {
    maxConnections: c.max_connections,
    maxConnectionsPerIdentity: c.max_connections_per_identity,
    handshakeTimeoutMs: c.handshake_timeout_s * 1000,
    maxConcurrentCalls: c.max_calls_per_connection,
    maxConcurrentStreams: c.max_streams_per_connection,
    maxBytesInFlight: Math.round(c.max_bytes_in_flight_mb * 1024 * 1024),
  };
}

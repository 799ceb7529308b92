/**
 * The factory's configuration: one zod schema that validates the YAML file and gives the
 * TypeScript type. Unknown keys are refused so a misspelt limit fails at start, not silently.
 */
import { basename, join } from "node:path";
import { z } from "zod";
import { attrNameIssues, attrValueProblem } from "../ads/glidein-attrs.js";
import { loadConfigFile } from "../common/config.js";
import {
  collectorBlock,
  listenerTlsBlock,
  logLevelKey,
  tlsBlock,
  wholeSeconds,
  wholeSecondsOrZero,
} from "../common/config-blocks.js";
import type { KeyRename } from "../common/config-renames.js";
import { metricsListenerSchema } from "../wire/metrics-listener.js";
import { PILOT_LOGS_DEFAULTS, pilotLogsSchema } from "./pilot-logs.js";
import { isSafePath } from "./staging/manifest.js";

const seconds = wholeSeconds;
const count = z.number().int().nonnegative();
const attrName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an attribute name is a plain name");
const entryName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "an entry name is letters, digits, '_', '.' and '-'");

/** Max glideins, idle and held; a missing value means "no limit at this level". */
const limitSet = z
  .object({
    max_glideins: count.optional(),
    max_idle: count.optional(),
    max_held: count.optional(),
  })
  .strict();

const attribute = z
  .object({
    value: z.union([z.string(), z.number(), z.boolean()]),
    type: z.enum(["string", "int", "real", "bool", "expr"]).default("string"),
    /** Put in the entry's GlideFactory ad, for frontends to match against. */
    publish: z.boolean().default(true),
    /** Passed to the pilot in its environment. */
    to_pilot: z.boolean().default(false),
    /**
     * The frontend may not override it (glideinWMS's `const`, true by default there too); a
     * non-const attribute is a default a frontend's attribute of the same name replaces.
     */
    const: z.boolean().default(true),
    /** Published on the pilots' Slot ads, and exported to their jobs' environment. */
    glidein_publish: z.boolean().default(false),
    job_publish: z.boolean().default(false),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (!(a.glidein_publish || a.job_publish)) return;
    // Sent to the pilot as a VO attribute: a string, an integer or expression text.
    const type = a.type === "expr" ? "expr" : a.type === "int" ? "int" : "string";
    if (a.type === "real" || a.type === "bool") {
      ctx.addIssue({
        code: "custom",
        path: ["type"],
        message: "glidein_publish and job_publish take type string, int or expr",
      });
      return;
    }
    const problem = attrValueProblem(type, a.value);
    if (problem) ctx.addIssue({ code: "custom", path: ["value"], message: problem });
  });

const submitSettings = z
  .object({
    /** Pilots submitted per (entry, client) per cycle at most. */
    max_per_cycle: z.number().int().positive().default(100),
    /** Pilots per adapter submit call. */
    cluster_size: z.number().int().positive().default(10),
  })
  .strict();

/**
 * Removals and releases per entry per cycle at most (glideinWMS's `<remove max_per_cycle="5"/>`
 * and `<release max_per_cycle="20"/>`), so one mistake cannot drain a site in one cycle.
 */
const perCycleCap = (n: number) =>
  z.object({ max_per_cycle: z.number().int().positive().default(n) }).strict();
export const REMOVE_PER_CYCLE = 5;
export const RELEASE_PER_CYCLE = 20;
const perCycleOverride = z
  .object({ max_per_cycle: z.number().int().positive().optional() })
  .strict();

/**
 * An entry whose pilots fail validation this many times in a row gets no pilots for `pause_s`,
 * doubling with each further failure up to `max_pause_s` (see validation-backoff.ts).
 */
const VALIDATION_BACKOFF_DEFAULTS = { after_failures: 5, pause_s: 600, max_pause_s: 7200 };
const validationBackoff = z
  .object({
    after_failures: z.number().int().positive().default(VALIDATION_BACKOFF_DEFAULTS.after_failures),
    pause_s: seconds.default(VALIDATION_BACKOFF_DEFAULTS.pause_s),
    max_pause_s: seconds.default(VALIDATION_BACKOFF_DEFAULTS.max_pause_s),
  })
  .strict();

/** Pilots older than these ages in a state are removed (glideinWMS "stale" pilots). */
const STALE_DEFAULTS = {
  idle_s: 7 * 86_400,
  running_s: 7 * 86_400,
  held_s: 86_400,
  unsubmitted_s: 3600,
};
const staleAges = z
  .object({
    idle_s: seconds.default(STALE_DEFAULTS.idle_s),
    running_s: seconds.default(STALE_DEFAULTS.running_s),
    held_s: seconds.default(STALE_DEFAULTS.held_s),
    unsubmitted_s: seconds.default(STALE_DEFAULTS.unsubmitted_s),
  })
  .strict();

/** An entry's own submit settings and stale ages: keys it leaves out come from `defaults`. */
const submitOverride = z
  .object({
    max_per_cycle: z.number().int().positive().optional(),
    cluster_size: z.number().int().positive().optional(),
  })
  .strict();
const staleOverride = z
  .object({
    idle_s: seconds.optional(),
    running_s: seconds.optional(),
    held_s: seconds.optional(),
    unsubmitted_s: seconds.optional(),
  })
  .strict();

/** The keys an override gives, over the defaults. */
function over<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given ?? {})) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** A file of the staging area as the manifest names it: relative, no `..`. */
const stagedPath = z
  .string()
  .refine(isSafePath, "a path relative to staging.dir, without '..' ([A-Za-z0-9._/@+-])");

const entry = z
  .object({
    name: entryName,
    enabled: z.boolean().default(true),
    gridtype: z.string().min(1),
    gatekeeper: z.string().default(""),
    /** Adapter-specific settings, validated by the adapter itself. */
    adapter: z.record(z.string(), z.unknown()).default({}),
    /** The pilot command and its arguments (the staging bootstrap by default). */
    pilot: z
      .object({
        command: z.string().min(1),
        args: z.array(z.string()).default([]),
        cpus: z.number().int().positive().default(1),
        memory_mb: z.number().int().positive().default(2048),
        walltime_s: seconds.default(86_400),
        /**
         * How long a pilot that failed validation keeps its batch slot, advertising why, so a
         * broken node does not eat the site's queue (glideinWMS keeps it about 20 minutes).
         */
        failure_linger_s: wholeSecondsOrZero.default(1200),
        /**
         * A job wrapper every job starts through, with optional pre/post-job scripts: paths of
         * files in the staging area (`staging.dir`), passed to the bootstrap with their manifest
         * hashes, so a pilot runs exactly the bytes staged (glideinWMS's job wrappers).
         */
        job_wrapper: z
          .object({
            file: stagedPath.optional(),
            pre_job: stagedPath.optional(),
            post_job: stagedPath.optional(),
            /** Time limit of each pre/post-job script. */
            timeout_s: seconds.default(300),
          })
          .strict()
          .refine((w) => w.file || w.pre_job || w.post_job, "name a file, pre_job or post_job")
          .optional(),
        /** Site environment for the pilot (X509_CERT_DIR, proxies...); wins over the client's. */
        env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
      })
      .strict()
      .optional(),
    attrs: z
      .record(attrName, attribute)
      .default({})
      .superRefine((attrs, ctx) => {
        const published = (name: string) =>
          Boolean(attrs[name]!.glidein_publish || attrs[name]!.job_publish);
        for (const { name, message } of attrNameIssues(Object.keys(attrs), published)) {
          ctx.addIssue({ code: "custom", path: [name], message });
        }
      }),
    limits: z
      .object({
        per_entry: limitSet.default({}),
        /** Per frontend security class (key: security class name, "default" for the rest). */
        per_frontend: z.record(z.string(), limitSet).default({}),
      })
      .strict()
      .default({ per_entry: {}, per_frontend: {} }),
    submit: submitOverride.optional(),
    remove: perCycleOverride.optional(),
    release: perCycleOverride.optional(),
    stale: staleOverride.optional(),
    /** Frontend security classes allowed on this entry; all configured classes when absent. */
    allow_classes: z.array(z.string().min(1)).optional(),
  })
  .strict();

const frontend = z
  .object({
    /** The frontend's name, as in its GlideClient ads (`FrontendName`). */
    name: z.string().min(1),
    /** Security classes this frontend may use; each maps to exactly one certificate identity. */
    security_classes: z
      .record(
        z.string().min(1),
        z
          .object({
            identity: z.string().min(1),
            /** Local user or label the pilots of this class run as; informative for `local`. */
            username: z.string().default(""),
          })
          .strict(),
      )
      .refine((r) => Object.keys(r).length > 0, "at least one security class"),
  })
  .strict();

export const factoryConfigSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    /** Where the factory advertises its entries and reads the frontends' requests (every cycle). */
    collector: collectorBlock(),
    tls: tlsBlock({
      /** RSA key pair frontends encrypt pilot credentials to (PubKeyValue/PubKeyID). */
      rsa_private_key_file: z.string().min(1),
      rsa_public_key_file: z.string().min(1),
    }),
    /** Where the factory keeps its database, per-pilot directories and client credentials. */
    work_dir: z.string().min(1),
    staging: z
      .object({
        dir: z.string().min(1),
        listen: z
          .object({
            host: z.string().default("0.0.0.0"),
            port: z.number().int().min(0).max(65535).default(8319),
          })
          .strict()
          .default({ host: "0.0.0.0", port: 8319 }),
        /** The URL pilots use; defaults to https://<host>:<port>. */
        url: z.string().optional(),
        /** The Updraft CLI script among the staged files (the manifest's `entry`). */
        entry: z.string().optional(),
        /** Web server certificate and key; the factory's own `tls` ones by default. */
        tls: listenerTlsBlock().optional(),
      })
      .strict()
      .optional(),
    loop: z
      .object({
        cycle_s: seconds.default(60),
        advertise_lifetime_s: seconds.default(600),
        /** Holds released at most this many times per pilot, with doubling back-off. */
        max_releases: count.default(3),
        release_backoff_s: seconds.default(300),
      })
      .strict()
      .default({
        cycle_s: 60,
        advertise_lifetime_s: 600,
        max_releases: 3,
        release_backoff_s: 300,
      }),
    defaults: z
      .object({
        submit: submitSettings.default({ max_per_cycle: 100, cluster_size: 10 }),
        remove: perCycleCap(REMOVE_PER_CYCLE).default({ max_per_cycle: REMOVE_PER_CYCLE }),
        release: perCycleCap(RELEASE_PER_CYCLE).default({ max_per_cycle: RELEASE_PER_CYCLE }),
        stale: staleAges.default(STALE_DEFAULTS),
        /** glideinWMS's remove-excess margin: idle pilots kept above the request. */
        remove_margin: count.default(0),
        validation_backoff: validationBackoff.default(VALIDATION_BACKOFF_DEFAULTS),
      })
      .strict()
      .default({
        submit: { max_per_cycle: 100, cluster_size: 10 },
        remove: { max_per_cycle: REMOVE_PER_CYCLE },
        release: { max_per_cycle: RELEASE_PER_CYCLE },
        stale: STALE_DEFAULTS,
        remove_margin: 0,
        validation_backoff: VALIDATION_BACKOFF_DEFAULTS,
      }),
    security: z.object({ frontends: z.array(frontend).default([]) }).strict(),
    entries: z.array(entry).min(1),
    /** A small HTTPS listener for Prometheus (GET /metrics, `monitor` role); none when absent. */
    metrics: metricsListenerSchema.optional(),
    /** Finished pilots' stdout, stderr and outcome, kept under work_dir/pilot-logs. */
    pilot_logs: pilotLogsSchema.default(PILOT_LOGS_DEFAULTS),
    log_level: logLevelKey,
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.entries.forEach((e, i) => {
      if (seen.has(e.name)) {
        ctx.addIssue({ code: "custom", path: ["entries", i, "name"], message: "duplicate entry" });
      }
      seen.add(e.name);
    });
    cfg.entries.forEach((e, i) => {
      if (e.pilot?.job_wrapper && !cfg.staging) {
        ctx.addIssue({
          code: "custom",
          path: ["entries", i, "pilot", "job_wrapper"],
          message: "a job wrapper is staged: configure `staging`",
        });
      }
      // Only the bootstrap takes staged paths; another command would run jobs unwrapped.
      if (e.pilot?.job_wrapper && basename(e.pilot.command) !== "updraft-pilot-startup.sh") {
        ctx.addIssue({
          code: "custom",
          path: ["entries", i, "pilot", "job_wrapper"],
          message: "a staged job wrapper needs the bootstrap updraft-pilot-startup.sh as command",
        });
      }
    });
    const classes = new Set(cfg.security.frontends.flatMap((f) => Object.keys(f.security_classes)));
    cfg.entries.forEach((e, i) => {
      (e.allow_classes ?? []).forEach((c, j) => {
        if (!classes.has(c)) {
          ctx.addIssue({
            code: "custom",
            path: ["entries", i, "allow_classes", j],
            message: `no frontend has security class '${c}'`,
          });
        }
      });
    });
  })
  // Every entry ends up with complete submit, remove and release settings and stale ages: its own
  // keys over the factory's `defaults`, so `stale: { idle_s: 3600 }` changes only the idle age.
  .transform((cfg) => ({
    ...cfg,
    entries: cfg.entries.map((e) => ({
      ...e,
      submit: over(cfg.defaults.submit, e.submit),
      remove: over(cfg.defaults.remove, e.remove),
      release: over(cfg.defaults.release, e.release),
      stale: over(cfg.defaults.stale, e.stale),
    })),
  }));

export type FactoryConfig = z.output<typeof factoryConfigSchema>;
export type EntryConfig = FactoryConfig["entries"][number];
export type LimitSet = z.output<typeof limitSet>;

export type FactoryConfigInput = z.input<typeof factoryConfigSchema>;

const STALE_STATES = ["idle", "running", "held", "unsubmitted"] as const;

/** Spellings of the previous release, accepted with a warning. */
export const FACTORY_RENAMES: readonly KeyRename[] = [
  { from: "credentials", to: "tls" },
  { from: "staging.cert_file", to: "staging.tls.cert_file" },
  { from: "staging.key_file", to: "staging.tls.key_file" },
  ...STALE_STATES.flatMap((s) => [
    { from: `defaults.stale.${s}`, to: `defaults.stale.${s}_s` },
    { from: `entries.*.stale.${s}`, to: `entries.*.stale.${s}_s` },
  ]),
];

/** Read and validate a config file; throws ConfigError listing every problem. */
export function loadFactoryConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): FactoryConfig {
  return loadConfigFile(factoryConfigSchema, file, env, FACTORY_RENAMES);
}

/** The folder finished pilots' logs are kept in (see pilot-logs.ts). */
export function pilotLogsDir(cfg: FactoryConfig): string {
  return join(cfg.work_dir, "pilot-logs");
}

/** The folder an entry's adapter keeps its own state in, across factory restarts. */
export function adapterStateDir(cfg: FactoryConfig, entry: string): string {
  return join(cfg.work_dir, "adapters", entry);
}

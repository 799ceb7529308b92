/**
 * The frontend's YAML: who it is, where the pool is, which credentials pilots carry, and per group
 * which jobs go to which entries and within which limits. Names follow glideinWMS's frontend.xml
 * where an operator would look for them (`running_glideins_per_entry`, `idle_vms_total`...), in
 * snake_case. Every expression is parsed at load so a typo fails at start, not in the first cycle.
 */
import { z } from "zod";
import { MAX_EXTRA_CREDENTIALS } from "../ads/glide-client.js";
import { loadConfigFile, parseConfig } from "../common/config.js";
import {
  collectorBlock,
  collectorUrls,
  durationS,
  logLevelKey,
  tlsBlock,
  wholeSecondsOrZero,
} from "../common/config-blocks.js";
import type { KeyRename } from "../common/config-renames.js";
import { parseExpression, tryParse } from "../classad/index.js";
import {
  attrNameIssues,
  attrValueProblem,
  GLIDEIN_ATTR_LIMITS,
  GLIDEIN_ATTR_TYPES,
} from "../ads/glidein-attrs.js";
import { metricsListenerSchema } from "../wire/metrics-listener.js";
import { duration } from "../common/config-blocks.js";
import { voJobWrapperSchema, voScriptSchema, voStagingSchema } from "./vo-bundle.js";
import { SUBMIT_SCOPE } from "../security/ce-token-check.js";

/**
 * A ClassAd expression given as text; refused at load with the column of the syntax error.
 * YAML reads a bare `true` as a boolean, which is what the operator meant as an expression.
 */
const expressionText = z.string().superRefine((text, ctx) => {
  const parsed = tryParse(() => parseExpression(text));
  if (!parsed.ok) {
    ctx.addIssue({
      code: "custom",
      message: `bad ClassAd expression at column ${parsed.error.column} (expression line ${parsed.error.line}): ${parsed.error.detail}`,
    });
  }
});
const expression = z.preprocess((v) => (typeof v === "boolean" ? String(v) : v), expressionText);

const count = z.number().int().nonnegative();
/** Effectively no limit; JSON has no infinity and operators rarely want one spelled out. */
const UNLIMITED = 1_000_000_000;

const maxCurb = (max: number, curb: number) =>
  z.object({ max: count.default(max), curb: count.default(curb) }).strict();

/** How a group uses several credentials of one trust domain. */
export const CREDENTIAL_SELECTIONS = ["all", "round_robin"] as const;

export const REMOVAL_TYPES = ["NO", "WAIT", "IDLE", "ALL"] as const;
export type RemovalType = (typeof REMOVAL_TYPES)[number];

export const groupLimitsSchema = z
  .object({
    /** Pilots (registered or queued) at one entry; max stops requests, curb halves them. */
    running_glideins_per_entry: maxCurb(10_000, UNLIMITED).default({
      max: 10_000,
      curb: UNLIMITED,
    }),
    /** Pilots of this group over all its entries. */
    running_glideins_total: maxCurb(100_000, 90_000).default({ max: 100_000, curb: 90_000 }),
    /** Idle pilots waiting in one entry's site queue: max caps ReqIdleGlideins, curb halves it. */
    idle_glideins_per_entry: maxCurb(100, UNLIMITED).default({ max: 100, curb: UNLIMITED }),
    /** Idle pilots waiting over all entries of the group. */
    idle_glideins_total: maxCurb(UNLIMITED, UNLIMITED).default({
      max: UNLIMITED,
      curb: UNLIMITED,
    }),
    /** Registered pilots with nothing to run at one entry (glideinWMS idle_vms_per_entry). */
    idle_vms_per_entry: maxCurb(100, 5).default({ max: 100, curb: 5 }),
    /** Registered idle pilots over all entries of the group (glideinWMS idle_vms_total). */
    idle_vms_total: maxCurb(1000, 200).default({ max: 1000, curb: 200 }),
    /** Ask for 1/ramp_up_attenuation of the effective idle each cycle: requests take cycles to land. */
    ramp_up_attenuation: z.number().min(1).default(3),
    /** ReqMaxGlideins = (effective idle + running here) x relative_to_queue + 1. */
    relative_to_queue: z.number().positive().default(1.15),
    removal: z
      .object({
        type: z.enum(REMOVAL_TYPES).default("NO"),
        /** Pilots the factory may keep above what is requested before removing any. */
        margin: count.default(0),
      })
      .strict()
      .default({ type: "NO", margin: 0 }),
    /** Seconds an idle pilot may wait in a site queue before the factory removes it (0: never). */
    idle_glideins_lifetime_s: wholeSecondsOrZero.default(0),
  })
  .strict();

export type GroupLimits = z.output<typeof groupLimitsSchema>;

const matchSchema = z
  .object({
    /** Job as MY, the entry's GlideFactory ad as TARGET; true when the entry can run the job. */
    match_expr: expression.default("true"),
    /** Becomes the pilots' START (their slots accept a job only when it holds). */
    start_expr: expression.default("true"),
    /** Which GlideFactory ads (entries) this group considers. */
    factory_query_expr: expression.default("true"),
    /** Which idle jobs this group serves. */
    job_query_expr: expression.default("true"),
    /** Job and entry attributes the expressions read; derived from them when absent. */
    match_attrs: z
      .object({ job: z.array(z.string()).optional(), factory: z.array(z.string()).optional() })
      .strict()
      .optional(),
  })
  .strict();

/**
 * One attribute for the pilots (glideinWMS's `<attr>`): sent to the factory as a `GlideinParam`
 * (`parameter`), published on the pilots' Slot ads (`glidein_publish`), exported to their jobs'
 * environment (`job_publish`). The value must already be of its type: nothing is coerced.
 */
const attrSchema = z
  .object({
    value: z.union([z.string(), z.number()]),
    type: z.enum(GLIDEIN_ATTR_TYPES).default("string"),
    parameter: z.boolean().default(true),
    glidein_publish: z.boolean().default(false),
    job_publish: z.boolean().default(false),
  })
  .strict()
  .superRefine((a, ctx) => {
    const problem = attrValueProblem(a.type, a.value);
    if (problem) ctx.addIssue({ code: "custom", path: ["value"], message: problem });
    if (!a.parameter && (a.glidein_publish || a.job_publish)) {
      ctx.addIssue({
        code: "custom",
        path: ["parameter"],
        message:
          "glidein_publish and job_publish reach pilots only as a parameter: set parameter: true",
      });
    }
  });

const attrsSchema = z.record(z.string(), attrSchema).superRefine((attrs, ctx) => {
  const names = Object.keys(attrs);
  if (names.length > GLIDEIN_ATTR_LIMITS.count) {
    ctx.addIssue({ code: "custom", message: `at most ${GLIDEIN_ATTR_LIMITS.count} attributes` });
  }
  for (const { name, message } of attrNameIssues(names)) {
    ctx.addIssue({ code: "custom", path: [name], message });
  }
});
export type AttrConfig = z.output<typeof attrSchema>;

const groupSchema = matchSchema
  .extend({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, "a group name is letters, digits, _ and -"),
    enabled: z.boolean().default(true),
    limits: groupLimitsSchema.default(groupLimitsSchema.parse({})),
    /** Over the frontend's `attrs`, name by name. */
    attrs: attrsSchema.default({}),
    /** VO scripts of this group's pilots, after the frontend's (see vo-bundle.ts). */
    scripts: z.array(voScriptSchema).default([]),
    /** The group's VO job wrapper, instead of the frontend's. */
    job_wrapper: voJobWrapperSchema.optional(),
    /** The group's pilot lifetimes, over the frontend's `pilot`, key by key. */
    pilot: z
      .object({
        max_walltime_s: wholeSecondsOrZero.optional(),
        retire_time_s: wholeSecondsOrZero.optional(),
        max_idle_s: wholeSecondsOrZero.optional(),
      })
      .strict()
      .optional(),
    /** The schedds whose jobs the group serves (among the frontend's); all of them when absent. */
    schedds: z.array(z.string().min(1)).min(1).optional(),
    /**
     * Which of the frontend's credentials (by `name`) the group's pilots carry: `all` splits each
     * request over them (glideinWMS's ProxyAll), `round_robin` sends one per request, the next
     * one each cycle. Absent: the first credential of the entry's trust domain.
     */
    security: z
      .object({
        credentials: z.array(z.string().min(1)).min(1),
        selection: z.enum(CREDENTIAL_SELECTIONS).default("all"),
      })
      .strict()
      .optional(),
  })
  .strict();

export const CREDENTIAL_TYPES = ["grid_proxy", "token", "pilot_tokens", "pilot_proxies"] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

const credentialSchema = z
  .object({
    /** What a group's `security.credentials` calls it. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, "a credential name is letters, digits, _ . and -")
      .optional(),
    /**
     * A pilot credential file (grid proxy or token) sent encrypted to each factory; for
     * `pilot_proxies`, the proxy each pilot's own proxy is signed with, which is never sent.
     */
    file: z.string().min(1).optional(),
    /**
     * `pilot_tokens`: no file; the frontend mints one token per pilot with `security.pilot_tokens`
     * (see pilot-tokens.ts). `pilot_proxies`: the frontend signs one proxy per pilot from `file`,
     * bound to the pilot as a pilot token is (see pilot-proxies.ts).
     */
    type: z.enum(CREDENTIAL_TYPES).default("grid_proxy"),
    /** The factory maps this to a local account for the pilots (glideinWMS security_class). */
    security_class: z.string().min(1).default("frontend"),
    /** Only entries whose GLIDEIN_TrustDomain equals this get this credential. */
    trust_domain: z.string().min(1).default("grid"),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type === "pilot_tokens" && c.file !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["file"],
        message: "pilot_tokens credentials are minted each cycle; remove file",
      });
    }
    if (c.type !== "pilot_tokens" && c.file === undefined) {
      ctx.addIssue({ code: "custom", path: ["file"], message: "name the credential file" });
    }
  });

/**
 * The life of a per-pilot credential, token or proxy: a minute (the renewals keep a running pilot
 * going) to a week, a day by default.
 */
const PILOT_CREDENTIAL_LIFETIME = duration(
  z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400),
).default(86_400);

/** Per-pilot proxies (credentials of `type: pilot_proxies`), see pilot-proxies.ts. */
const pilotProxiesSchema = z
  .object({
    /**
     * Each proxy's life, never past the signing proxy's: long enough for a site queue and the
     * pilot's first hours. With `pilot.max_walltime_s`, a running pilot's proxy is renewed for as
     * long again, until its life plus the walltime (see pilot-renewal.ts).
     */
    lifetime_s: PILOT_CREDENTIAL_LIFETIME,
    /**
     * Proxies minted per entry per cycle, at most. A GlideClient ad holds about 20 (the
     * collector's max_ad_bytes is 64 KiB by default), so more are refused here.
     */
    batch_max: z.number().int().min(1).max(20).default(10),
  })
  .strict();

/**
 * The frontend's own token issuer for pilot tokens (`updraft token init --dir`): each cycle it
 * signs one short-lived token per pilot a factory may start, bound to the group and entry.
 */
const pilotTokensSchema = z
  .object({
    /** Issuer directory: signing-key.pem, jwks.json and issuer. */
    dir: z.string().min(1),
    /** Each token's life: long enough for a site queue and the pilot's first hours. */
    lifetime_s: PILOT_CREDENTIAL_LIFETIME,
    /** Tokens minted per entry per cycle, at most (one per pilot the factory may submit). */
    batch_max: z.number().int().min(1).max(200).default(20),
    /** Audiences besides the collector's and the schedds' URLs. */
    audiences: z.array(z.string().min(1).max(1024)).default([]),
  })
  .strict();

/**
 * The frontend's issuer for CE tokens (`updraft token init --alg RS256 --dir`; the CEs trust its
 * issuer): each GlideClient ad carries a token whose audience is the entry's CE (the last word
 * of its `GLIDEIN_Gatekeeper`), as glideinWMS's per-entry `frontend_scitoken`. The factory
 * submits to the CE with it when the entry's adapter takes frontend tokens.
 */
const ceTokensSchema = z
  .object({
    /** Issuer directory (signing-key.pem, jwks.json, issuer): the frontend mints the tokens. */
    dir: z.string().min(1).optional(),
    /**
     * Ready-made token files instead (from the VO's token service: htgettoken, oidc-agent...),
     * read every cycle so a token refreshed on disk is sent; each entry gets the longest-lived
     * one whose audience names its CE.
     */
    files: z.array(z.string().min(1)).min(1).max(256).optional(),
    /**
     * The tokens' `sub`; the frontend's name when absent. A-REX keeps a job for the subject that
     * submitted it, so keep it when renewing, or the factory loses sight of running pilots.
     */
    sub: z.string().min(1).max(256).optional(),
    /** Each token's life; a token is reused for half of it, then a new one is sent. */
    lifetime_s: duration(z.number().int().min(600).max(86_400)).default(3600),
    /** WLCG compute scopes: submit, watch, and remove pilots. */
    scope: z
      .string()
      .min(1)
      .max(1024)
      .refine(
        (v) => v.split(" ").includes(SUBMIT_SCOPE),
        `a CE token must grant ${SUBMIT_SCOPE}, or the CE refuses every submission`,
      )
      .default("compute.create compute.read compute.modify compute.cancel"),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.dir === undefined) === (c.files === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["dir"],
        message: "name either dir (an issuer the frontend signs with) or files (ready-made tokens)",
      });
    }
    if (c.files !== undefined && c.sub !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["sub"],
        message: "sub is for tokens the frontend signs; a ready-made token keeps its own",
      });
    }
  });

const pilotSchema = z
  .object({
    /** Hard limit on a pilot's life. */
    max_walltime_s: wholeSecondsOrZero.default(172_800),
    /** Stop taking new jobs this long after the pilot started (glideinWMS's GLIDEIN_Retire_Time). */
    retire_time_s: wholeSecondsOrZero.default(21_600),
    /** Exit after this long without a job. */
    max_idle_s: wholeSecondsOrZero.default(1_200),
  })
  .strict();

const scheddsSchema = z.union([
  z.array(z.string().min(1)).min(1, "name at least one schedd URL, or use all"),
  z.literal("all"),
  z.object({ constraint: expression }).strict(),
]);

const frontendBase = z
  .object({
    /** Frontend name as factories see it (GlideClient ClientName is `<name>.<group>`). */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . and -"),
    /**
     * The VO's user pool: the collector(s) its pilots and schedds report to. The frontend reads
     * its pilots' Slot ads here and tells pilots these URLs. Several URLs: each holds every ad.
     */
    collector: collectorBlock(),
    /**
     * Where the frontend meets the factories (glideinWMS's WMS collector): GlideFactory and
     * GlideFactoryClient ads are read and GlideClient ads advertised here. The user pool's
     * collector when absent. Who may write there is pinned per factory in `factories`.
     */
    factory_collector: collectorBlock().optional(),
    /**
     * The schedds whose idle jobs this frontend serves; pilots pull jobs from them. A list of
     * URLs, or found each cycle through the Scheduler ads at the pool's collector: `all`, or
     * `{ constraint }` on those ads. Found schedds count only when their ad was written by one
     * of `security.schedd_identities`.
     */
    schedds: scheddsSchema,
    /** Time between cycles. */
    cycle_s: durationS.default(60),
    /**
     * Evaluation steps one autocluster's attributes may take against the entries (per conjunct
     * of the match expression; past it the autocluster matches nothing this cycle), and steps
     * one group's match may take per cycle: job attributes are users' expressions.
     */
    autocluster_step_budget: z.number().int().positive().default(1_000_000),
    cycle_step_budget: z.number().int().positive().default(100_000_000),
    /** Deadline on each call to the collector or a schedd; a dead peer costs this. */
    peer_timeout_s: durationS.default(10),
    /** The frontend's own certificate, for the collector and the schedds (daemon only). */
    tls: tlsBlock().optional(),
    security: z
      .object({
        /** Identity (certificate subject) the factory should see as writer of our ads. */
        identity: z.string().min(1),
        credentials: z.array(credentialSchema).min(1),
        pilot_tokens: pilotTokensSchema.optional(),
        pilot_proxies: pilotProxiesSchema.default(pilotProxiesSchema.parse({})),
        ce_tokens: ceTokensSchema.optional(),
        /**
         * Identities the frontend's pilots authenticate as besides those of `credentials`. Only
         * Slot ads written by one of these or by a credential's identity count as its pilots.
         */
        pilot_identities: z.array(z.string().min(1)).default([]),
        /**
         * Who may write the Scheduler ads of schedds found through the collector: identities or
         * patterns as in authorization rules (`*` stops at `/`, `**` spans).
         */
        schedd_identities: z.array(z.string().min(1)).default([]),
      })
      .strict(),
    /**
     * The factories this frontend sends credentials to: each factory's name (FactoryName) and
     * the identity its GlideFactory ads must carry (AuthenticatedIdentity, stamped by the
     * collector). Entries of any other factory, or written by anyone else, are ignored.
     */
    factories: z
      .array(z.object({ name: z.string().min(1), identity: z.string().min(1) }).strict())
      .min(1, "pin at least one factory: [{ name, identity }]"),
    pilot: pilotSchema.default(pilotSchema.parse({})),
    /** Attributes every group's pilots get; a group's own `attrs` win name by name. */
    attrs: attrsSchema.default({}),
    /** Applies to every group: a group's expressions are and-ed with these. */
    match: matchSchema.default(matchSchema.parse({})),
    groups: z.array(groupSchema).min(1),
    /** VO scripts every group's pilots run (see vo-bundle.ts), staged under `staging`. */
    scripts: z.array(voScriptSchema).default([]),
    /** The VO job wrapper every group's jobs start through, inside the site's. */
    job_wrapper: voJobWrapperSchema.optional(),
    /** The frontend's stage area for its VO script bundles. */
    staging: voStagingSchema.optional(),
    /** A small HTTPS listener for Prometheus (GET /metrics, `monitor` role); none when absent. */
    metrics: metricsListenerSchema.optional(),
    log_level: logLevelKey,
  })
  .strict();

export const frontendConfigSchema = frontendBase.superRefine((cfg, ctx) => {
  cfg.security.credentials.forEach((c, i) => {
    if (c.type === "pilot_tokens" && !cfg.security.pilot_tokens) {
      ctx.addIssue({
        code: "custom",
        path: ["security", "credentials", i, "type"],
        message: "pilot_tokens needs security.pilot_tokens (the issuer directory)",
      });
    }
  });
  if (cfg.metrics && !cfg.tls) {
    ctx.addIssue({
      code: "custom",
      path: ["metrics"],
      message: "metrics needs the tls section: its trust_dir checks scrapers' certificates",
    });
  }
  const voScripts =
    cfg.scripts.length > 0 ||
    cfg.job_wrapper !== undefined ||
    cfg.groups.some((g) => g.scripts.length > 0 || g.job_wrapper !== undefined);
  if (voScripts && !cfg.staging) {
    ctx.addIssue({
      code: "custom",
      path: ["staging"],
      message: "VO scripts and job wrappers are staged: configure staging (dir, listen or url)",
    });
  }
  if (cfg.staging?.listen && !cfg.tls) {
    ctx.addIssue({
      code: "custom",
      path: ["staging", "listen"],
      message: "staging.listen needs the tls section: its certificate serves the bundles",
    });
  }
  if (!Array.isArray(cfg.schedds) && cfg.security.schedd_identities.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["security", "schedd_identities"],
      message:
        "schedds found through the collector need the identities whose Scheduler ads to trust",
    });
  }
  checkGroupReferences(cfg, ctx);
  const seen = new Set<string>();
  cfg.groups.forEach((g, i) => {
    if (seen.has(g.name)) {
      ctx.addIssue({ code: "custom", path: ["groups", i, "name"], message: "duplicate group" });
    }
    seen.add(g.name);
  });
});

/** What groups name must exist: credentials by name, schedds among the frontend's. */
function checkGroupReferences(cfg: z.output<typeof frontendBase>, ctx: z.RefinementCtx): void {
  const creds = new Map<string, (typeof cfg.security.credentials)[number]>();
  cfg.security.credentials.forEach((c, i) => {
    if (c.name === undefined) return;
    if (creds.has(c.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["security", "credentials", i, "name"],
        message: `another credential is named ${c.name}`,
      });
    }
    creds.set(c.name, c);
  });
  cfg.groups.forEach((g, i) => {
    // Schedds found through the collector are known only each cycle: a group's list filters them.
    const fixed = Array.isArray(cfg.schedds) ? cfg.schedds : undefined;
    (g.schedds ?? []).forEach((url, j) => {
      if (fixed && !fixed.includes(url)) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", i, "schedds", j],
          message: `${url} is not among the frontend's schedds; add it there first`,
        });
      }
    });
    const sec = g.security;
    if (!sec) return;
    const used = sec.credentials.map((name, j) => {
      const c = creds.get(name);
      if (!c) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", i, "security", "credentials", j],
          message: `no credential named ${name} in security.credentials (give it a name:)`,
        });
      }
      return c;
    });
    if (sec.selection !== "all") return;
    // One request carries all of a trust domain's credentials: one class and one type for them.
    const byDomain = new Map<string, { security_class: string; type: string }>();
    for (const c of used) {
      if (!c) continue;
      const first = byDomain.get(c.trust_domain);
      if (first && (first.security_class !== c.security_class || first.type !== c.type)) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", i, "security", "credentials"],
          message: `selection all sends trust domain ${c.trust_domain}'s credentials in one request: give them one security_class and one type, or use round_robin`,
        });
      }
      if (first && (c.type === "pilot_tokens" || c.type === "pilot_proxies")) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", i, "security", "credentials"],
          message: `${c.type} are minted per request: one per trust domain, or use round_robin`,
        });
      }
      if (!first) byDomain.set(c.trust_domain, c);
    }
    // A GlideClient ad carries at most MAX_EXTRA_CREDENTIALS besides its first: more were dropped.
    for (const domain of byDomain.keys()) {
      const n = used.filter((c) => c?.trust_domain === domain).length;
      if (n > MAX_EXTRA_CREDENTIALS + 1) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", i, "security", "credentials"],
          message: `selection all sends at most ${MAX_EXTRA_CREDENTIALS + 1} credentials of one trust domain in a request; trust domain ${domain} has ${n}: use round_robin or fewer`,
        });
      }
    }
  });
}

export type FrontendConfig = z.output<typeof frontendConfigSchema>;

/** The schedds named by URL; none when they are found through their Scheduler ads. */
export const fixedScheddUrls = (c: FrontendConfig): string[] =>
  Array.isArray(c.schedds) ? c.schedds : [];

/** The constraint on Scheduler ads when schedds are found through the collector. */
export function scheddAdConstraint(c: FrontendConfig): string | undefined {
  if (Array.isArray(c.schedds)) return undefined;
  return c.schedds === "all" ? "true" : c.schedds.constraint;
}

/** The user pool's collector URLs: pilots advertise their slots there. */
export const poolCollectorUrls = (c: FrontendConfig) => collectorUrls(c.collector);

/** The collector URLs shared with the factories (the pool's when none is given apart). */
export const factoryCollectorUrls = (c: FrontendConfig) =>
  collectorUrls(c.factory_collector ?? c.collector);
export type GroupConfig = FrontendConfig["groups"][number];
export type CredentialConfig = FrontendConfig["security"]["credentials"][number];
export type PilotTokensConfig = NonNullable<FrontendConfig["security"]["pilot_tokens"]>;
export type PilotProxiesConfig = FrontendConfig["security"]["pilot_proxies"];
export type CeTokensConfig = NonNullable<FrontendConfig["security"]["ce_tokens"]>;
export type MatchConfig = FrontendConfig["match"];

export type FrontendConfigInput = z.input<typeof frontendConfigSchema>;

/** Spellings of the previous release, accepted with a warning. */
export const FRONTEND_RENAMES: readonly KeyRename[] = [
  { from: "frontend_name", to: "name" },
  // The collector was a bare URL; a `collector:` block is left as it is.
  { from: "collector", to: "collector.url", when: (v) => typeof v === "string" },
  { from: "loop_delay", to: "cycle_s" },
  { from: "peer_timeout", to: "peer_timeout_s" },
  { from: "pilot.max_walltime", to: "pilot.max_walltime_s" },
  { from: "pilot.retire_time", to: "pilot.retire_time_s" },
  { from: "pilot.max_idle", to: "pilot.max_idle_s" },
  {
    from: "groups.*.limits.idle_glideins_lifetime",
    to: "groups.*.limits.idle_glideins_lifetime_s",
  },
];

export function loadFrontendConfig(file: string): FrontendConfig {
  return loadConfigFile(frontendConfigSchema, file, process.env, FRONTEND_RENAMES);
}

export function parseFrontendConfig(text: string, file = "frontend.yaml"): FrontendConfig {
  return parseConfig(frontendConfigSchema, text, file, process.env, FRONTEND_RENAMES);
}

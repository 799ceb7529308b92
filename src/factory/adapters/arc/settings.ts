/** The `arc` adapter's entry settings, validated once when the adapter is made. */
import { z } from "zod";
import { UpdraftError } from "../../../common/errors.js";

const httpsUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith("https://"), { message: "must be an https:// URL" })
  .transform((u) => u.replace(/\/+$/, ""));

export const arcSettingsSchema = z
  .object({
    /** The A-REX endpoint, e.g. https://ce.example.org:443/arex (REST lives below /rest/1.0). */
    endpoint: httpsUrl,
    /** The CE queue (an arc.conf [queue:NAME]); absent: the CE's default. */
    queue: z.string().min(1).optional(),
    /** Runtime environments the pilots need (xRSL runtimeenvironment / ADL RuntimeEnvironment). */
    runtime_environments: z.array(z.string().min(1)).default([]),
    /** Resource requests; each overrides what the factory's PilotSpec asks for. */
    cpus: z.number().int().positive().optional(),
    memory_mb: z.number().int().positive().optional(),
    walltime_s: z.number().int().positive().optional(),
    /** Trusted CAs for the CE's host certificate: a grid trust directory (<hash>.0 files). */
    ca_dir: z.string().min(1),
    /** How the factory authenticates to the CE: a certificate and key, or one proxy file. */
    client_cert: z.string().min(1).optional(),
    client_key: z.string().min(1).optional(),
    client_proxy: z.string().min(1).optional(),
    /**
     * Or a bearer token file (WLCG profile, audience the CE), sent as `Authorization: Bearer` and
     * read at each request so a renewed file is used; A-REX's `authtokens` admits it.
     */
    client_token: z.string().min(1).optional(),
    /**
     * Or no credential of the entry's own: each pilot is submitted, watched and removed with the
     * bearer token its frontend sent for this CE (`GlideinEncParamSubmitToken`), so the CE sees
     * the VO as the owner of its jobs. Requests without such a token are refused.
     */
    frontend_tokens: z.boolean().default(false),
    /** Job description language sent to the CE. */
    dialect: z.enum(["xrsl", "adl"]).default("xrsl"),
    /** Lifetime asked for the delegated pilot proxy (never beyond the pilot credential's). */
    delegation_lifetime_h: z.number().positive().default(24),
    /** A delegation is renewed once less than this remains of it. */
    delegation_renew_margin_s: z.number().int().positive().default(3600),
    /** Per HTTP request. */
    request_timeout_s: z.number().positive().default(30),
    /** Largest number of pilots sent in one POST /jobs?action=new. */
    max_batch: z.number().int().positive().max(1000).default(50),
    /** Largest stdout/stderr returned by fetchOutput, per stream. */
    max_output_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
  })
  .strict()
  .superRefine((s, ctx) => {
    const pair = s.client_cert !== undefined || s.client_key !== undefined;
    const ways = [pair, s.client_proxy !== undefined, s.client_token !== undefined];
    if (s.frontend_tokens) {
      if (ways.some(Boolean)) {
        ctx.addIssue({
          code: "custom",
          path: ["frontend_tokens"],
          message:
            "frontend_tokens submits with each frontend's token: remove client_proxy, client_token, client_cert and client_key",
        });
      }
    } else if (ways.filter(Boolean).length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [s.client_token !== undefined ? "client_token" : "client_proxy"],
        message: "give one of client_proxy, client_token, or client_cert with client_key",
      });
    } else if (!ways.some(Boolean)) {
      ctx.addIssue({
        code: "custom",
        path: ["client_proxy"],
        message:
          "required: client_proxy, client_token, client_cert with client_key, or frontend_tokens: true",
      });
    } else if (pair && (s.client_cert === undefined || s.client_key === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [s.client_cert === undefined ? "client_cert" : "client_key"],
        message: "client_cert and client_key go together",
      });
    }
  });

export type ArcSettings = z.infer<typeof arcSettingsSchema>;

/** An entry's ARC settings that do not validate; every problem is listed. */
export class ArcSettingsError extends UpdraftError {
  readonly code = "arc-settings";
  override name = "ArcSettingsError";
}

/** Every problem, one line each with its path, for an error at factory start. */
export function parseArcSettings(raw: Record<string, unknown>): ArcSettings {
  const r = arcSettingsSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(settings)"}: ${i.message}`);
  throw new ArcSettingsError(`invalid arc adapter settings:\n${lines.join("\n")}`);
}

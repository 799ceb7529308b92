/**
 * The pool around a pilot whose frontend renews its tokens: the frontend's pilot-token issuer, a
 * real collector (on the real clock, so ads age) that trusts it, the real frontend daemon minting
 * and renewing with it, and the pilot's first token and settings as the factory would hand them.
 * For a pilot that outlives its first credential, token or proxy: its run with the collector
 * watched, and what such a run must show. For the renewers' own tests: a collector where a second
 * frontend could write the pilot's PilotCredential ad.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCollectorClient, type CollectorClient } from "../../src/collector/client.js";
import { collectorConfigSchema } from "../../src/collector/config.js";
import { createCollectorDaemon } from "../../src/collector/daemon.js";
import { parseFrontendConfig, type FrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon } from "../../src/frontend/daemon.js";
import { createPilotTokenMinter } from "../../src/frontend/pilot-tokens.js";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { resolveSettings, type PilotSettings } from "../../src/pilot/settings.js";
import type { NodeView } from "../../src/pilot/validate/node-view.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import type { Logger } from "../../src/common/logger.js";
import {
  DN as COLLECTOR_DN,
  createPool,
  startCollector,
  type Pool,
  type Running,
} from "../collector/harness.js";
import { DN, type TestEnv } from "../schedd/harness.js";
import type { TestPki } from "./pki.js";

/** The frontend's pilot-token issuer. */
export const PILOT_ISS = "https://frontend.pool.example.org/pilots";
/** The daemons here take WLCG's any-audience tokens. */
export const ANY_AUDIENCE = "https://wlcg.cern.ch/jwt/v1/any";

type After = { after(fn: () => unknown): void };
type Rule = { identity?: string; issuer?: string; roles: string[] };
type Creds = TestEnv["creds"];

export interface PilotIssuer {
  issuerDir: string;
  /** The `tokens` block of a daemon that takes the issuer's tokens, any audience. */
  tokens: { issuers: { issuer: string; jwks_file: string }[]; accept_any_audience: true };
  /** The authorization rule giving the issuer's pilots their roles. */
  pilotRule: Rule;
}

/** A new pilot-token issuer in `dir`/issuer. */
export async function createPilotIssuer(dir: string): Promise<PilotIssuer> {
  const issuerDir = join(dir, "issuer");
  const init = await initIssuerDir(issuerDir, PILOT_ISS);
  assert.ok(init.ok);
  return {
    issuerDir,
    tokens: {
      issuers: [{ issuer: PILOT_ISS, jwks_file: init.dir.jwksFile }],
      accept_any_audience: true,
    },
    pilotRule: { issuer: PILOT_ISS, roles: ["pilot", "read"] },
  };
}

/**
 * A real collector taking the issuer's tokens and the given rules (the pilot rule and an admin
 * reader come first), and the admin's client of it; both stop when the test ends.
 */
export async function startTokenCollector(
  t: After,
  opts: { name: string; pki: TestPki; creds: Creds; issuer: PilotIssuer; rules: Rule[] },
): Promise<{ url: string; reader: CollectorClient }> {
  const { pki, creds, issuer } = opts;
  const collector = createCollectorDaemon(
    collectorConfigSchema.parse({
      name: opts.name,
      listen: { host: "127.0.0.1", port: 0 },
      tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
      tokens: issuer.tokens,
      authorization: {
        rules: [issuer.pilotRule, ...opts.rules, { identity: DN.admin, roles: ["admin", "read"] }],
      },
    }),
  );
  const url = (await collector.start()).replace("127.0.0.1", "localhost");
  t.after(() => collector.stop());
  const rpc = createRpcClient({
    url,
    certPem: creds.admin.certPem,
    keyPem: creds.admin.keyPem,
    caDir: pki.caDir,
  });
  t.after(() => rpc.close());
  return { url, reader: createCollectorClient(rpc) };
}

/**
 * The real frontend daemon "fe", group "main", minting pilot tokens with the issuer and renewing
 * them every 2 s cycle; stopped when the test ends. `schedds` is the YAML value of its `schedds`
 * key; `scheddIdentities` its `security.schedd_identities`, when given.
 */
export async function startRenewingFrontend(
  t: After,
  opts: {
    pki: TestPki;
    creds: Creds;
    issuer: PilotIssuer;
    collectorUrl: string;
    schedds: string;
    scheddIdentities?: string[];
    tokenS: number;
    walltimeS: number;
    logLevel?: string;
  },
): Promise<FrontendConfig> {
  const { pki, creds } = opts;
  const identities = opts.scheddIdentities
    ? `\n  schedd_identities: ${JSON.stringify(opts.scheddIdentities)}`
    : "";
  const config = parseFrontendConfig(
    `
name: fe
collector: { url: "${opts.collectorUrl}" }
schedds: ${opts.schedds}
cycle_s: 2
peer_timeout_s: 20
log_level: ${opts.logLevel ?? "warn"}
tls:
  cert_file: ${creds.frontend.certFile}
  key_file: ${creds.frontend.keyFile}
  trust_dir: ${pki.caDir}
security:
  identity: ${DN.frontend}
  credentials: [{ type: pilot_tokens, security_class: main }]
  pilot_tokens: { dir: ${opts.issuer.issuerDir}, lifetime_s: ${opts.tokenS}, audiences: ["${ANY_AUDIENCE}"] }${identities}
factories: [{ name: f1, identity: /CN=f1 }]
pilot: { max_walltime_s: ${opts.walltimeS} }
groups:
  - name: main
`,
    "fe.yaml",
  );
  const frontend = createFrontendDaemon(config);
  await frontend.start();
  t.after(() => frontend.stop());
  return config;
}

/**
 * One pilot's first token, as the frontend hands it to the factory for entry e1 of factory f1,
 * signed for `audiences`, and written 0600 to `file`.
 */
export async function writeFirstPilotToken(
  config: FrontendConfig,
  audiences: string[],
  walltimeS: number,
  file: string,
): Promise<string> {
  const minter = await createPilotTokenMinter(config.security.pilot_tokens!, audiences, walltimeS);
  const token = (
    await minter.mint({
      binding: { frontend: "fe", group: "main", entry: "e1", factory: "f1" },
      count: 1,
    })
  ).trim();
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * A token pilot's settings, with UPDRAFT_FRONTEND_IDENTITY as the factory sets it: the writer of
 * the GlideClient ad the pilot was made for.
 */
export function tokenPilotSettings(opts: {
  pilotId: string;
  workDir: string;
  collector: string;
  schedds: string[];
  credentialFile: string;
  trustDir: string;
  walltimeS: number;
  maxIdleS: number;
  graceS: number;
}): PilotSettings {
  const r = resolveSettings(
    {
      pilotId: opts.pilotId,
      workDir: opts.workDir,
      collector: opts.collector,
      schedd: opts.schedds,
      credential: opts.credentialFile,
      trustDir: opts.trustDir,
      maxWalltime: opts.walltimeS,
      maxIdle: opts.maxIdleS,
      grace: opts.graceS,
    },
    { UPDRAFT_FRONTEND_IDENTITY: DN.frontend },
    () => "unused",
  );
  assert.ok(r.ok, JSON.stringify(r));
  return r.settings;
}

/** A pilot's whole run, and what the collector showed of it meanwhile. */
export interface WatchedRun {
  code: number;
  output: string;
  /** The `UpdraftCredentialExpiry` values its slot ads showed. */
  expiries: Set<string>;
  /** The `AuthenticatedIdentity` values its slot ads were stored under. */
  writers: Set<string>;
}

/**
 * Runs the pilot to its end while reading the collector's slot ads every 2 s: their credential
 * ends and writers are noted, and each ad goes to `onSlot` (a squatter answering it).
 */
export async function runWatchedPilot(
  settings: PilotSettings,
  view: NodeView,
  reader: CollectorClient,
  onSlot: (ad: Record<string, string>) => Promise<void>,
): Promise<WatchedRun> {
  const expiries = new Set<string>();
  const writers = new Set<string>();
  let stopped = false;
  const watching = (async () => {
    while (!stopped) {
      try {
        for (const ad of await reader.query({ type: "Slot" })) {
          if (ad.UpdraftCredentialExpiry) expiries.add(ad.UpdraftCredentialExpiry);
          if (ad.AuthenticatedIdentity) writers.add(ad.AuthenticatedIdentity);
          await onSlot(ad);
        }
      } catch {
        // the next poll tries again
      }
      await new Promise((res) => setTimeout(res, 2_000));
    }
  })();
  let output = "";
  const code = await runPilotProcess(settings, { view, write: (s) => (output += s) });
  stopped = true;
  await watching;
  return { code, output, expiries, writers };
}

/** The credential a renewed run held, and the pilot's life. */
export interface RenewedCredential {
  /** "token" or "proxy", for the messages. */
  kind: string;
  /** Its first credential's end, seconds since the epoch. */
  firstEndS: number;
  /** How long each credential the frontend makes lasts. */
  lifetimeS: number;
  /** How long past a credential's end servers may still take it (a token verifier's leeway). */
  leewayS: number;
  /** The writer of its slot ads before `#pilot-<id>`: the token's issuer, the proxy's DN. */
  writerPrefix: string;
  /** Text of the credential that must not reach the pilot's output. */
  secret: string;
  walltimeS: number;
  graceS: number;
}

/**
 * What a pilot that outlived its first credential must show: it ended by its own lifetime after
 * its walltime, not its credential; of the jobs (`done`, the cluster's ads queue and history), at
 * least 15 completed, 5 well after the first credential (and the leeway) ended, and some in its
 * last minute; the squatter wrote often and none of its hour-long credentials was taken; and at
 * least three credential ends were seen under one writer, `<writerPrefix>#pilot-<id>`.
 */
export function assertRenewedRun(
  run: WatchedRun,
  c: RenewedCredential,
  o: { workDir: string; startedMs: number; done: Record<string, string>[]; squatted: number },
): void {
  const startedS = Math.floor(o.startedMs / 1000);
  assert.equal(run.code, 0, run.output);
  assert.ok(!run.output.includes(c.secret), `no ${c.kind} reaches the pilot's output`);
  const report = JSON.parse(readFileSync(join(o.workDir, "pilot-report.json"), "utf8")) as {
    exit: { reason: string };
  };
  assert.ok(["retired", "walltime"].includes(report.exit.reason), report.exit.reason);
  assert.ok(Date.now() - o.startedMs >= (c.walltimeS - 2 * c.graceS) * 1000, "ran its walltime");

  const completions = o.done
    .filter((j) => j.JobStatus === "4")
    .map((j) => Number(j.CompletionDate));
  const late = completions.filter((t) => t > c.firstEndS + c.leewayS);
  assert.ok(completions.length >= 15, `completed ${completions.length}: ${run.output}`);
  assert.ok(late.length >= 5, `only ${late.length} jobs completed after the first ${c.kind} ended`);
  assert.ok(
    Math.max(...completions) >= startedS + c.walltimeS - 60,
    "jobs ran into the pilot's last minute",
  );

  const ends = [...run.expiries].map(Number);
  assert.ok(o.squatted >= 10, `the squatter wrote ${o.squatted} times`);
  assert.ok(
    Math.max(...ends) <= startedS + c.lifetimeS + c.walltimeS,
    `no ${c.kind} of the squatter's (an hour long) was taken`,
  );
  // At least two renewals seen, under one identity.
  assert.ok(run.expiries.size >= 3, `${c.kind} ends seen: ${[...run.expiries].join(", ")}`);
  assert.ok(Math.max(...ends) > c.firstEndS + c.lifetimeS / 2);
  assert.equal(run.writers.size, 1, [...run.writers].join(", "));
  const [writer] = [...run.writers] as [string];
  const [prefix, id] = (JSON.parse(writer) as string).split("#pilot-");
  assert.equal(prefix, c.writerPrefix, writer);
  assert.match(id ?? "", /^[0-9a-f-]+$/, writer);
}

/** A logger that drops every line, for a renewal whose log the test does not read. */
export const silentLog = {
  info() {},
  warn() {},
  error() {},
  debug() {},
} as unknown as Logger;

/**
 * A real collector (on a manual clock) for a renewer's checks, in a new test pool: the frontend
 * writes PilotCredential ads; the factory's identity stands for a second frontend, a trusted
 * role but not the pilot's; the reader reads. `stop` stops it and removes the pool's files.
 */
export async function startRenewalCollector(): Promise<{
  pool: Pool;
  collector: Running;
  stop(): Promise<void>;
}> {
  const pool = createPool();
  const rules = [
    { identity: COLLECTOR_DN.frontend, roles: ["frontend", "read"] },
    { identity: COLLECTOR_DN.factory, roles: ["frontend", "read"] },
    { identity: COLLECTOR_DN.reader, roles: ["read"] },
  ];
  const collector = await startCollector(pool, pool.config({ authorization: { rules } }));
  return {
    pool,
    collector,
    async stop() {
      await collector.stop();
      pool.cleanup();
    },
  };
}

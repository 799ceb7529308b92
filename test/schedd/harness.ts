/**
 * A real schedd on port 0 with the test CA, and clients for the people and daemons around it:
 * alice and bob (users), an admin, two pilots and a frontend.
 */
import type { Logger } from "pino";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ManualClock, type Clock } from "../../src/common/clock.js";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { scheddConfigSchema, type ScheddConfig } from "../../src/schedd/config.js";
import type { JobAttrs } from "../../src/schedd/job-status.js";
import { startSchedd, type Schedd } from "../../src/schedd/schedd.js";
import { createRpcClient, type RpcClient } from "../../src/wire/index.js";
import { createTestPki, type CredentialFiles, type TestPki } from "../helpers/pki.js";

export const DN = {
  alice: "/DC=org/DC=example/CN=Alice",
  bob: "/DC=org/DC=example/CN=Bob",
  admin: "/DC=org/DC=example/CN=Admin",
  pilot: "/DC=org/DC=example/CN=pilot01",
  pilot2: "/DC=org/DC=example/CN=pilot02",
  frontend: "/DC=org/DC=example/CN=frontend",
};

export type Who = "alice" | "bob" | "admin" | "pilot" | "pilot2" | "frontend";

export interface TestEnv {
  pki: TestPki;
  dir: string;
  creds: Record<Exclude<Who, "alice">, CredentialFiles>;
  config: ScheddConfig;
  clock: ManualClock;
  schedd: Schedd;
  client(who: Who): ScheddClient;
  /** Stop the schedd and start a new one on the same state directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

let sharedPki: { pki: TestPki; creds: TestEnv["creds"] } | undefined;

/** One PKI per test process: issuing 2048-bit certificates is the slow part. */
export function testPki(): { pki: TestPki; creds: TestEnv["creds"] } {
  if (!sharedPki) {
    const pki = createTestPki();
    sharedPki = {
      pki,
      creds: {
        bob: pki.issueUser(DN.bob),
        admin: pki.issueUser(DN.admin),
        pilot: pki.issueUser(DN.pilot),
        pilot2: pki.issueUser(DN.pilot2),
        frontend: pki.issueUser(DN.frontend),
      },
    };
    process.once("exit", () => sharedPki?.pki.cleanup());
  }
  return sharedPki;
}

export function scheddConfig(pki: TestPki, stateDir: string, extra: object = {}): ScheddConfig {
  return scheddConfigSchema.parse({
    listen: { host: "127.0.0.1", port: 0 },
    tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
    state_dir: stateDir,
    authorization: {
      rules: [
        { identity: DN.alice, roles: ["user"] },
        { identity: DN.bob, roles: ["user"] },
        { identity: DN.admin, roles: ["admin", "user"] },
        { identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] },
        { identity: DN.frontend, roles: ["frontend"] },
      ],
      default_roles: [],
    },
    ...extra,
  });
}

export function rpcFor(pki: TestPki, creds: TestEnv["creds"], who: Who, url: string): RpcClient {
  const base = { url, caDir: pki.caDir, backoff: { initialMs: 20, maxMs: 200, minMs: 5 } };
  if (who === "alice") return createRpcClient({ ...base, credentialFile: pki.proxy.file });
  const c = creds[who];
  return createRpcClient({ ...base, certPem: c.certPem, keyPem: c.keyPem });
}

export async function startEnv(
  opts: { extra?: object; clock?: Clock; timers?: boolean; logger?: Logger } = {},
): Promise<TestEnv> {
  const { pki, creds } = testPki();
  const dir = mkdtempSync(join(tmpdir(), "updraft-schedd-"));
  const config = scheddConfig(pki, join(dir, "state"), opts.extra);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const start = () =>
    startSchedd({
      config,
      clock: opts.clock ?? clock,
      timers: opts.timers ?? false,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  const clients = new Map<Who, ScheddClient>();
  const env: TestEnv = {
    pki,
    dir,
    creds,
    config,
    clock,
    schedd: await start(),
    client(who) {
      let c = clients.get(who);
      if (!c) {
        c = scheddClient(rpcFor(pki, creds, who, env.schedd.url()));
        clients.set(who, c);
      }
      return c;
    },
    async restart() {
      for (const c of clients.values()) await c.rpc.close();
      clients.clear();
      await env.schedd.close();
      env.schedd = await start();
    },
    async close() {
      for (const c of clients.values()) await c.rpc.close();
      await env.schedd.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}

/** A plain job ad as the submit language would produce it (before the schedd adds its own). */
export function job(extra: JobAttrs = {}): JobAttrs {
  return {
    Cmd: '"/bin/true"',
    RequestCpus: "1",
    RequestMemory: "1024",
    RequestDisk: "1000",
    Requirements: "TARGET.Cpus >= RequestCpus && TARGET.Memory >= RequestMemory",
    ...extra,
  };
}

/** A pilot's slot ad. */
export function slot(extra: JobAttrs = {}): JobAttrs {
  return {
    MyType: '"Machine"',
    Name: '"slot1@glidein_1"',
    Cpus: "4",
    Memory: "8192",
    Disk: "20000000",
    GLIDEIN_Entry_Name: '"Entry_A"',
    START: "true",
    Requirements: "START",
    ...extra,
  };
}

/** Reserve a cluster and submit `jobs` to it. */
export async function submit(c: ScheddClient, jobs: JobAttrs[]): Promise<number> {
  const id = await c.newCluster();
  await c.submitJobs(id, jobs);
  return id;
}

export function codeOf(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

export function reasonOf(err: unknown): string | undefined {
  return (err as { details?: Record<string, string> }).details?.reason;
}

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const execFileAsync = promisify(execFile);

export type CliResult = { code: number; stdout: string; stderr: string };

/**
 * Runs the real `updraft` CLI in `cwd` as alice (her proxy, the test CA, this env's schedd, no
 * client.yaml); an exit code other than 0 is returned, not thrown.
 */
export async function runCli(env: TestEnv, cwd: string, args: string[]): Promise<CliResult> {
  try {
    const r = await execFileAsync(process.execPath, [bin, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: env.dir,
        UPDRAFT_CONFIG: join(env.dir, "no-such-client.yaml"),
        UPDRAFT_SCHEDD: env.schedd.url(),
        X509_CERT_DIR: env.pki.caDir,
        X509_USER_PROXY: env.pki.proxy.file,
      },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

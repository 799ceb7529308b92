/**
 * A real factory against a real collector on port 0: test PKI, an RSA key pair for credentials,
 * a local entry whose "pilots" are small shell scripts, and a frontend client to write
 * GlideClient ads with an encrypted credential.
 */
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ClassAd } from "../../src/classad/index.js";
import {
  type FactoryConfig,
  type FactoryConfigInput,
  factoryConfigSchema,
} from "../../src/factory/config.js";
import { encryptCredential } from "../../src/security/credential-crypto.js";
import { createPool, DN, type Pool, type Running, startCollector } from "../collector/harness.js";

export const PILOT_OK =
  'echo "=== Pilot report begin ==="\n' +
  'echo \'{"version":1,"pilotId":"p1","host":"h","startedAt":"","endedAt":"","idleS":0,' +
  '"validation":{"ok":true,"checks":[]},"jobs":[{},{}],"durationS":1,"exit":{"reason":"idle","code":0}}\'\n' +
  'echo "=== Pilot report end ==="\n';

export interface FactoryWorld {
  pool: Pool;
  collector: Running;
  dir: string;
  config(over?: {
    pilotScript?: string;
    /** Typed as the file's keys, so an old spelling here fails to compile. */
    entry?: Partial<FactoryConfigInput["entries"][number]>;
    top?: Partial<FactoryConfigInput>;
  }): FactoryConfig;
  /** The JSON the config was parsed from, for a child process. */
  rawConfig(over?: Parameters<FactoryWorld["config"]>[0]): FactoryConfigInput;
  glideClient(over?: Record<string, string | number>): Record<string, string>;
  publicPem: string;
  cleanup(): Promise<void>;
}

export const silent = pino({ level: "silent" });

export async function createFactoryWorld(): Promise<FactoryWorld> {
  const pool = createPool();
  const collector = await startCollector(pool);
  const dir = mkdtempSync(join(tmpdir(), "updraft-factory-"));
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  writeFileSync(join(dir, "rsa-pub.pem"), publicPem);
  writeFileSync(join(dir, "rsa-key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
  });
  let scripts = 0;
  const rawConfig: FactoryWorld["rawConfig"] = (over = {}) => {
    // Named as the bootstrap is, in a folder of its own: the factory gives it the staging
    // arguments when a staging area is configured.
    const scriptDir = join(dir, `pilot-${scripts++}`);
    mkdirSync(scriptDir);
    const script = join(scriptDir, "updraft-pilot-startup.sh");
    writeFileSync(script, `#!/bin/sh\n${over.pilotScript ?? PILOT_OK}`);
    chmodSync(script, 0o755);
    return {
      name: "fact1",
      collector: { url: collector.url },
      tls: {
        cert_file: pool.creds.factory.certFile,
        key_file: pool.creds.factory.keyFile,
        trust_dir: pool.pki.caDir,
        rsa_private_key_file: join(dir, "rsa-key.pem"),
        rsa_public_key_file: join(dir, "rsa-pub.pem"),
      },
      work_dir: join(dir, "work"),
      loop: { cycle_s: 3600, advertise_lifetime_s: 600, max_releases: 2, release_backoff_s: 1 },
      security: {
        frontends: [
          {
            name: "fe",
            security_classes: {
              main: { identity: DN.frontend },
              ops: { identity: DN.admin },
            },
          },
        ],
      },
      entries: [
        {
          name: "local1",
          gridtype: "local",
          gatekeeper: "localhost",
          adapter: { slots: 2, kill_grace_s: 1, schedule_interval_s: 0.2 },
          pilot: { command: script },
          attrs: {
            GLIDEIN_Site: { value: "TEST" },
            GLIDEIN_CPUS: { value: 1, type: "int", to_pilot: true },
          },
          limits: { per_entry: { max_glideins: 10 } },
          ...over.entry,
        },
      ],
      ...over.top,
    };
  };
  return {
    pool,
    collector,
    dir,
    publicPem,
    rawConfig,
    config: (over) => factoryConfigSchema.parse(rawConfig(over)),
    glideClient(over = {}) {
      const ad = new ClassAd()
        .setValue("MyType", "GlideClient")
        .setValue("Name", "local1@fact1@fe.main")
        .setValue("ReqGlidein", "local1@fact1")
        .setValue("ClientName", "fe.main")
        .setValue("FrontendName", "fe")
        .setValue("GlideinSecurityClass", "main")
        .setValue("ReqIdleGlideins", 3)
        .setValue("ReqMaxGlideins", 10)
        .setValue("ReqRemoveExcess", "NO")
        .setValue("GlideinEncParamCredential", encryptCredential("PILOT-PROXY-SECRET", publicPem))
        .setValue("GlideinParamGLIDEIN_Collector", "wss://c.example:9618");
      for (const [k, v] of Object.entries(over)) ad.setValue(k, v);
      return ad.toJSON();
    },
    async cleanup() {
      await collector.stop();
      rmSync(dir, { recursive: true, force: true });
      pool.cleanup();
    },
  };
}

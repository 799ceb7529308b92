/**
 * Shared setup for the collector's integration tests: a real collector on port 0 with the test
 * PKI, identities for each role, clients holding their credentials, and timers driven by a
 * manual clock so expiry is tested without waiting.
 */
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CollectorClient, createCollectorClient } from "../../src/collector/client.js";
import { type CollectorConfig, collectorConfigSchema } from "../../src/collector/config.js";
import { type CollectorDaemon, createCollectorDaemon } from "../../src/collector/daemon.js";
import type { Timers } from "../../src/collector/timers.js";
import { ManualClock } from "../../src/common/clock.js";
import { createRpcClient, type RpcClient } from "../../src/wire/client.js";
import { createTestPki, type CredentialFiles, type TestPki } from "../helpers/pki.js";

export const DN = {
  factory: "/DC=org/DC=example/OU=Services/CN=factory.example.org",
  frontend: "/DC=org/DC=example/OU=Services/CN=frontend.example.org",
  pilot: "/DC=org/DC=example/OU=Pilots/CN=pilot",
  pilot2: "/DC=org/DC=example/OU=Pilots/CN=pilot2",
  admin: "/DC=org/DC=example/CN=Operator",
  reader: "/DC=org/DC=example/CN=Reader",
} as const;

export type Who = keyof typeof DN;

/** Timers that fire when the manual clock is advanced past their due time. */
export class ManualTimers implements Timers {
  private pending: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;

  constructor(readonly clock: ManualClock) {}

  set(fn: () => void, delayMs: number): () => void {
    const t = { at: this.clock.now() + Math.max(0, delayMs), fn, seq: this.seq++ };
    this.pending.push(t);
    return () => {
      this.pending = this.pending.filter((p) => p !== t);
    };
  }

  /** Move the clock forward, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      const due = this.pending
        .filter((p) => p.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      if (due.at > this.clock.now()) this.clock.advance(due.at - this.clock.now());
      due.fn();
    }
    if (end > this.clock.now()) this.clock.advance(end - this.clock.now());
  }
}

export interface Pool {
  pki: TestPki;
  creds: Record<Who, CredentialFiles>;
  /** Make a fresh config for a collector of this pool (YAML shape, validated and defaulted). */
  config(overrides?: Record<string, unknown>): CollectorConfig;
  cleanup(): void;
}

export function createPool(): Pool {
  const pki = createTestPki();
  const creds = {} as Record<Who, CredentialFiles>;
  for (const who of Object.keys(DN) as Who[]) creds[who] = pki.issueUser(DN[who]);
  const dirs: string[] = [];
  return {
    pki,
    creds,
    config(overrides = {}) {
      return collectorConfigSchema.parse({
        name: "collector@test",
        listen: { host: "127.0.0.1", port: 0 },
        tls: { cert_file: pki.host.certFile, key_file: pki.host.keyFile, trust_dir: pki.caDir },
        authorization: {
          rules: [
            { identity: DN.factory, roles: ["factory", "read"] },
            { identity: DN.frontend, roles: ["frontend", "read"] },
            { identity: "/DC=org/DC=example/OU=Pilots/*", roles: ["pilot", "read"] },
            { identity: DN.admin, roles: ["admin", "read"] },
            { identity: DN.reader, roles: ["read"] },
          ],
        },
        ...overrides,
      });
    },
    cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      pki.cleanup();
    },
  };
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "updraft-collector-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  daemon: CollectorDaemon;
  url: string;
  clock: ManualClock;
  timers: ManualTimers;
  rpcs: RpcClient[];
  /** A collector client holding `who`'s credential. */
  as(who: Who): CollectorClient;
  stop(): Promise<void>;
}

export async function startCollector(pool: Pool, config = pool.config()): Promise<Running> {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const timers = new ManualTimers(clock);
  const daemon = createCollectorDaemon(config, { clock, timers });
  const started = await daemon.start();
  const url = started.replace("127.0.0.1", "localhost");
  const rpcs: RpcClient[] = [];
  const clients = new Map<Who, CollectorClient>();
  return {
    daemon,
    url,
    clock,
    timers,
    rpcs,
    as(who) {
      let c = clients.get(who);
      if (!c) {
        const rpc = connectAs(pool, url, who);
        rpcs.push(rpc);
        c = createCollectorClient(rpc);
        clients.set(who, c);
      }
      return c;
    },
    async stop() {
      await Promise.all(rpcs.map((r) => r.close()));
      await daemon.stop();
    },
  };
}

export function connectAs(pool: Pool, url: string, who: Who): RpcClient {
  const cred = pool.creds[who];
  return createRpcClient({
    url,
    certPem: cred.certPem,
    keyPem: cred.keyPem,
    caDir: pool.pki.caDir,
    backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
  });
}

/** A slot ad as a pilot would send it (wire form: name -> expression text). */
export function slotAd(i: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MyType: '"Slot"',
    Name: `"slot1@glidein_${i}@wn${i}.example.org"`,
    GLIDEIN_Site: `"Site_${i % 3}"`,
    Cpus: String(1 + (i % 4)),
    Memory: String(2048 * (1 + (i % 4))),
    State: '"Unclaimed"',
    Activity: '"Idle"',
    EnteredCurrentActivity: "1700000000",
    Start: "TARGET.RequestMemory <= MY.Memory",
    ...extra,
  };
}

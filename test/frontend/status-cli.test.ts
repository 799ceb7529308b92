/**
 * `updraft frontend status` as a process against a real collector holding the GlideResource and
 * GlideClient ads a real frontend cycle advertised (jobs from a real schedd): per entry, the
 * table and the JSON say what was matched and requested and which limit bound it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLogger } from "../../src/common/logger.js";
import { type FrontendConfigInput, parseFrontendConfig } from "../../src/frontend/config.js";
import { createFrontendDaemon, type CycleReport } from "../../src/frontend/daemon.js";
import type { EntryStatus } from "../../src/frontend/status.js";
import { pubKeyId } from "../../src/security/credential-crypto.js";
import { createPool, DN, startCollector, type Pool, type Running } from "../collector/harness.js";
import { job, startEnv, submit, type TestEnv } from "../schedd/harness.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "bin/updraft.js");
const run = promisify(execFile);
const log = createLogger({ name: "frontend-status-test", level: "silent" });

function entryAd(name: string, site: string, extra: Record<string, string> = {}) {
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();
  return {
    MyType: '"GlideFactory"',
    Name: JSON.stringify(`${name}@gfactory@test`),
    FactoryName: '"gfactory"',
    GLIDEIN_Site: JSON.stringify(site),
    GLIDEIN_CPUS: "1",
    GLIDEIN_MaxMemMBs: "4000",
    GLIDEIN_TrustDomain: '"grid"',
    PubKeyID: JSON.stringify(pubKeyId(pem)),
    PubKeyValue: JSON.stringify(pem),
    ...extra,
  };
}

describe("frontend status against a real collector", () => {
  let pool: Pool;
  let collector: Running;
  let schedd: TestEnv;
  let dir: string;
  let report: CycleReport;

  before(async () => {
    pool = createPool();
    collector = await startCollector(pool);
    schedd = await startEnv();
    dir = mkdtempSync(join(tmpdir(), "updraft-frontend-status-"));
    writeFileSync(join(dir, "token"), "pilot-token");
    await collector
      .as("factory")
      .advertise(
        [
          entryAd("ce_a", "SiteA"),
          entryAd("ce_b", "SiteB"),
          entryAd("ce_c", "SiteA", { GLIDEIN_In_Downtime: "true" }),
        ],
        "GlideFactory",
      );
    await submit(
      schedd.client("bob"),
      Array.from({ length: 5 }, () => job({ DESIRED_Sites: '"SiteA"' })),
    );
    const config = parseFrontendConfig(
      JSON.stringify({
        name: "vo",
        collector: { url: collector.url },
        schedds: [schedd.schedd.url()],
        security: {
          identity: DN.frontend,
          credentials: [{ file: join(dir, "token"), type: "token", trust_domain: "grid" }],
        },
        factories: [{ name: "gfactory", identity: DN.factory }],
        groups: [
          {
            name: "main",
            match_expr: "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites)",
            limits: { ramp_up_attenuation: 1, idle_glideins_per_entry: { max: 2 } },
          },
          { name: "gpu", match_expr: "MY.RequestGpus > 0" },
        ],
      } satisfies FrontendConfigInput),
    );
    const daemon = createFrontendDaemon(config, {
      peers: {
        collector: collector.as("frontend"),
        schedds: [{ url: schedd.schedd.url(), client: schedd.client("frontend") }],
        timeoutMs: 2000,
      },
      logger: log,
    });
    report = await daemon.cycle();
    await daemon.stop();
    assert.deepEqual(report.unreachable, []);
    assert.ok(report.advertised > 0);
  });

  after(async () => {
    await collector.stop();
    await schedd.close();
    pool.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The command as an operator with only the read role runs it. */
  function status(...args: string[]) {
    const reader = pool.creds.reader;
    return run(process.execPath, [
      bin,
      "frontend",
      "status",
      "--collector",
      collector.url,
      "--cert",
      reader.certFile,
      "--key",
      reader.keyFile,
      "--ca-dir",
      pool.pki.caDir,
      ...args,
    ]);
  }

  it("JSON: per entry the jobs matched, the request advertised and the limit that bound it", async () => {
    const { stdout } = await status("-json", "--group", "main");
    const rows = (JSON.parse(stdout) as { entries: EntryStatus[] }).entries;
    const plan = report.result.plans.find((p) => p.group === "main")!;
    assert.deepEqual(
      rows.map((r) => r.entry),
      plan.entries.map((e) => e.entry).sort(),
    );
    for (const row of rows) {
      const e = plan.entries.find((p) => p.entry === row.entry)!;
      assert.equal(row.frontend, "vo");
      assert.equal(row.group, "main");
      assert.equal(row.writer, DN.frontend);
      assert.equal(row.inDowntime, e.inDowntime);
      assert.deepEqual(row.jobs, {
        count: e.jobs.count,
        prop: e.jobs.prop,
        effective: e.jobs.effectiveIdle,
        hereonly: e.jobs.hereonly,
      });
    }
    const byEntry = new Map(rows.map((r) => [r.entry, r]));
    const a = byEntry.get("ce_a@gfactory@test")!;
    assert.equal(a.jobs!.count, 5);
    assert.deepEqual(a.request, { idle: 2, max: 6, removeExcess: "NO", removeMargin: 0 });
    assert.ok(a.boundBy.includes("idle_glideins_per_entry max 2"), a.boundBy.join("; "));
    // The downtime entry matches the same jobs but is asked for nothing, and says why.
    const c = byEntry.get("ce_c@gfactory@test")!;
    assert.equal(c.inDowntime, true);
    assert.equal(c.jobs!.count, 5);
    assert.equal(c.request?.idle ?? 0, 0);
    assert.deepEqual(c.boundBy, ["entry in downtime"]);
    // No job wants SiteB: no GlideClient ad at all.
    const b = byEntry.get("ce_b@gfactory@test")!;
    assert.equal(b.request, null);
    assert.equal(b.jobs!.count, 0);
  });

  it("the table: one block per group, a row per entry, the reason last, a totals line", async () => {
    const { stdout } = await status();
    const lines = stdout.split("\n");
    assert.match(stdout, /^frontend vo, group gpu \(client vo\.gpu\): 3 entries, 0 idle pilots/m);
    assert.match(stdout, /^frontend vo, group main \(client vo\.main\): 3 entries, 2 idle pilots/m);
    const header = lines.find((l) => l.startsWith("ENTRY"))!;
    assert.match(header, /COUNT +PROP +EFFECTIVE +HEREONLY +P_IDLE +P_RUN +P_HELD +REQ_IDLE/);
    const mainAt = lines.findIndex((l) => l.startsWith("frontend vo, group main"));
    const row = (entry: string) =>
      lines
        .slice(mainAt)
        .find((l) => l.startsWith(entry))!
        .split(/ +/);
    const a = row("ce_a@gfactory@test");
    // ENTRY COUNT PROP EFFECTIVE HEREONLY P_IDLE P_RUN P_HELD REQ_IDLE REQ_MAX REMOVE BOUND BY...
    // (the entry in downtime takes no share of the jobs, so ce_a's share is all five)
    assert.deepEqual(a.slice(0, 11), [
      "ce_a@gfactory@test",
      "5",
      "5",
      "5",
      "0",
      "0",
      "0",
      "0",
      "2",
      "6",
      "NO",
    ]);
    assert.match(
      lines.slice(mainAt).find((l) => l.startsWith("ce_a"))!,
      /idle_glideins_per_entry max 2/,
    );
    assert.match(
      lines.find((l) => l.startsWith("ce_c@gfactory@test (down)"))!,
      /entry in downtime/,
    );
    assert.match(
      lines.slice(mainAt).find((l) => l.startsWith("ce_b"))!,
      /no request advertised \(not wanted, or withdrawn\); no idle jobs/,
    );
    assert.match(stdout, /^Total: 6 entries; .*requested idle 2, max /m);
  });

  it("an unknown group shows nothing, a collector that refuses shows why", async () => {
    const { stdout } = await status("--group", "nosuch");
    assert.equal(stdout, "no GlideResource or GlideClient ads match\n");
    await assert.rejects(
      run(process.execPath, [
        bin,
        "frontend",
        "status",
        "--collector",
        "https://localhost:1",
        "--cert",
        pool.creds.reader.certFile,
        "--key",
        pool.creds.reader.keyFile,
        "--ca-dir",
        pool.pki.caDir,
      ]),
      (err: { stderr: string; code: number }) =>
        err.code !== 0 && /must start with wss:\/\//.test(err.stderr),
    );
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  createPool,
  type Pool,
  type Running,
  slotAd,
  startCollector,
  tempDir,
} from "../collector/harness.js";
import { runCli } from "./run-cli.js";

let pool: Pool;
let c: Running;
let env: NodeJS.ProcessEnv;
let tmp: ReturnType<typeof tempDir>;

before(async () => {
  pool = createPool();
  tmp = tempDir();
  c = await startCollector(pool);
  await c
    .as("pilot")
    .advertise([
      slotAd(1, { State: '"Claimed"', Activity: '"Busy"' }),
      slotAd(2),
      slotAd(3, { GLIDEIN_Site: '"Site_1"' }),
    ]);
  await c.as("factory").advertise([
    {
      MyType: '"GlideFactory"',
      Name: '"entry_a@gfactory"',
      GLIDEIN_Site: '"Site_1"',
      GLIDEIN_CPUS: "8",
    },
  ]);
  env = {
    PATH: process.env.PATH,
    HOME: tmp.dir,
    UPDRAFT_CONFIG: join(tmp.dir, "none.yaml"),
    UPDRAFT_POOL: c.url,
    X509_USER_CERT: pool.creds.reader.certFile,
    X509_USER_KEY: pool.creds.reader.keyFile,
    X509_CERT_DIR: pool.pki.caDir,
  };
});
after(async () => {
  await c.stop();
  tmp.cleanup();
  pool.cleanup();
});

test("the default output is one line per slot with name, site, cpus, memory, state and activity", async () => {
  const r = await runCli(["status"], env);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^Name\s+Site\s+Cpus\s+Memory\s+State\s+Activity\s+ActvtyTime$/);
  assert.equal(lines.length, 4);
  assert.match(
    lines[1]!,
    /^slot1@glidein_1@wn1\.example\.org\s+Site_1\s+2\s+4096\s+Claimed\s+Busy\s+\d+\+\d\d:\d\d:\d\d$/,
  );
});

test("-af prints values space-separated, strings bare, one ad per line", async () => {
  const r = await runCli(
    ["status", "-af", "Name", "Cpus", "State", "Cpus * 2", "-constraint", "Cpus >= 3"],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split("\n").filter(Boolean).sort(), [
    "slot1@glidein_2@wn2.example.org 3 Unclaimed 6",
    "slot1@glidein_3@wn3.example.org 4 Unclaimed 8",
  ]);
});

test("-long prints the old long form with ads separated by a blank line", async () => {
  const r = await runCli(["status", "-long", "-constraint", 'GLIDEIN_Site == "Site_1"'], env);
  assert.equal(r.code, 0, r.stderr);
  const blocks = r.stdout.trimEnd().split("\n\n");
  assert.equal(blocks.length, 2);
  for (const block of blocks) {
    assert.match(block, /^MyType = "Slot"$/m);
    assert.match(block, /^GLIDEIN_Site = "Site_1"$/m);
    assert.match(block, /^AuthenticatedIdentity = "\/DC=org\/DC=example\/OU=Pilots\/CN=pilot"$/m);
    assert.match(block, /^Start = TARGET\.RequestMemory <= MY\.Memory$/m);
  }
});

test("-json prints an array of objects with literal values typed and expressions marked", async () => {
  const r = await runCli(
    [
      "status",
      "--json",
      "--type",
      "Slot",
      "--constraint",
      'Name == "slot1@glidein_2@wn2.example.org"',
    ],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  const ads = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.equal(ads.length, 1);
  assert.equal(ads[0]!.Cpus, 3);
  assert.equal(ads[0]!.State, "Unclaimed");
  // In the JSON text "\/Expr(...)\/", which decodes to /Expr(...)/ as condor_status writes it.
  assert.equal(ads[0]!.Start, "/Expr(TARGET.RequestMemory <= MY.Memory)/");
  assert.match(r.stdout, /"Start": "\\\/Expr\(TARGET\.RequestMemory <= MY\.Memory\)\\\/"/);
});

test("-compact prints condor_status's machine rows and state summary", async () => {
  const r = await runCli(["status", "-compact"], env);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  // The header condor_status's own format tests look for.
  assert.match(
    lines[0]!,
    /^\s*Machine\s+Platform\s+Slots\s+Cpus\s+Gpus\s+TotalGb\s+FreCpu\s+FreeGb\s+CpuLoad\s+ST\s+Jobs\/Min\s+MaxSlotGb$/,
  );
  const rows = lines.filter((l) => l.startsWith("slot1@glidein_"));
  assert.equal(rows.length, 3);
  const one = rows.find((l) => l.startsWith("slot1@glidein_1@"))!.split(/\s+/);
  // Machine, Platform, Slots, Cpus, Gpus, TotalGb, FreCpu, FreeGb, CpuLoad, ST
  assert.deepEqual([one[3], one[5], one[6], one[7], one[9]], ["2", "4.00", "2", "4.00", "Cb"]);
  assert.match(r.stdout, /\n\s+Total Owner Claimed Unclaimed Matched Preempting Drain\n/);
  assert.match(r.stdout, /\n\s+Total\s+3\s+0\s+1\s+2\s+0\s+0\s+0\n$/);
});

test("-total sums ads, cpus and memory per type and site", async () => {
  const r = await runCli(["status", "-any", "-total"], env);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/\s+/));
  assert.deepEqual(rows[0], ["Type", "Site", "Ads", "Cpus", "Memory", "Claimed", "Unclaimed"]);
  const find = (type: string, site: string) => rows.find((x) => x[0] === type && x[1] === site);
  assert.deepEqual(find("Slot", "Site_1"), ["Slot", "Site_1", "2", "6", "12288", "1", "1"]);
  assert.deepEqual(find("Slot", "Site_2"), ["Slot", "Site_2", "1", "3", "6144", "0", "1"]);
  assert.deepEqual(find("GlideFactory", "Site_1"), [
    "GlideFactory",
    "Site_1",
    "1",
    "0",
    "0",
    "0",
    "0",
  ]);
  assert.ok(rows.some((x) => x[0] === "Collector"));
});

test("--any lists every type in a table", async () => {
  const r = await runCli(["status", "--any"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^GlideFactory\s+entry_a@gfactory\s+\/DC=org\/DC=example\/OU=Services\/CN=factory\.example\.org/m,
  );
  assert.match(r.stdout, /^Collector\s+collector@test/m);
});

test("errors name what and where and exit non-zero", async () => {
  const bad = await runCli(["status", "-constraint", "Cpus >"], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /-constraint:/);
  const down = await runCli(["status", "--pool", "wss://localhost:1/"], env);
  assert.notEqual(down.code, 0);
  assert.match(
    down.stderr,
    /cannot connect to the collector at wss:\/\/localhost:1\/.*check that it runs/,
  );
  const noPool = await runCli(["status"], { ...env, UPDRAFT_POOL: undefined });
  assert.notEqual(noPool.code, 0);
  assert.match(noPool.stderr, /no pool given/);
});

test("a pool of several collectors goes on with one that answers, and fails naming each when none does", async () => {
  // The first collector listed is down: the command reads from the second, as condor_status
  // goes down COLLECTOR_HOST.
  const listed = await runCli(["status", "-af", "Name"], {
    ...env,
    UPDRAFT_POOL: `wss://localhost:1/, ${c.url}`,
  });
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.trimEnd().split("\n").length, 3);
  const flag = await runCli(["status", "--pool", `${c.url},wss://localhost:1/`, "--total"], env);
  assert.equal(flag.code, 0, flag.stderr);

  const none = await runCli(["status", "--pool", "wss://localhost:1/,wss://localhost:2/"], env);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no collector of the pool answered/);
  assert.match(none.stderr, /collector at wss:\/\/localhost:1\//);
  assert.match(none.stderr, /collector at wss:\/\/localhost:2\//);
  const empty = await runCli(["status", "--pool", " , "], env);
  assert.notEqual(empty.code, 0);
  assert.match(empty.stderr, /names no collector/);
  const plain = await runCli(["status", "--pool", `${c.url},http://x/`], env);
  assert.notEqual(plain.code, 0);
  assert.match(plain.stderr, /'http:\/\/x\/' must start with wss:\/\//);
});

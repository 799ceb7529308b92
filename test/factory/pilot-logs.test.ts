import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { failureSummary } from "../../src/factory/cycle-observe.js";
import { clientDirName, PilotLogStore, tailBytes } from "../../src/factory/pilot-logs.js";
import { runCli } from "../cli/run-cli.js";
import { createFactoryWorld, type FactoryWorld, silent } from "./factory-harness.js";

const failing =
  'echo "pilot starting on $(hostname)"\n' +
  'echo "=== Pilot report begin ==="\n' +
  `echo '{"version":1,"pilotId":"p1","host":"h","startedAt":"","endedAt":"","idleS":0,` +
  `"validation":{"ok":false,"checks":[],"failure":{"class":"WN_Resource","message":"disk"}},` +
  `"jobs":[],"durationS":1,"exit":{"reason":"validation","code":11,"failureClass":"WN_Resource"}}'\n` +
  'echo "=== Pilot report end ==="\n' +
  'echo "validation failed: only 2 GB of scratch disk" >&2\nexit 11\n';

let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
});
after(async () => {
  await w.cleanup();
});

async function until(fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a finished pilot's stdout, stderr and outcome are kept 0600 by entry and client, and `factory logs` prints them", async () => {
  const raw = w.rawConfig({ top: { work_dir: join(w.dir, "work-logs") }, pilotScript: failing });
  const cfg = w.config({ top: { work_dir: join(w.dir, "work-logs") }, pilotScript: failing });
  await w.collector.as("frontend").advertise([w.glideClient()], "GlideClient");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  // What the client's GlideFactoryClient ad and the pool page show of a failed pilot (until
  // the entry's validation pause replaces it): class, the node's message, its last stderr.
  let failure = "";
  try {
    await daemon.start();
    await until(async () => {
      await daemon.cycle();
      const last = daemon.store.lastErrors().find((e) => e.entry === "local1")?.message ?? "";
      if (last.startsWith("pilot ")) failure = last;
      return daemon.store.counters().some((c) => c.name === "finished" && c.value >= 2);
    });
    assert.match(
      failure,
      /^pilot \d+ failed \(exit 11, validation, WN_Resource\): disk; stderr: validation failed: only 2 GB of scratch disk$/,
    );
  } finally {
    await daemon.stop();
  }
  const clientDir = join(cfg.work_dir, "pilot-logs", "local1", "fe.main");
  const pilots = readdirSync(clientDir);
  assert.ok(pilots.length >= 2);
  const one = join(clientDir, pilots[0]!);
  assert.equal(statSync(clientDir).mode & 0o777, 0o700);
  assert.equal(statSync(one).mode & 0o777, 0o700);
  for (const f of ["stdout", "stderr", "outcome.json"])
    assert.equal(statSync(join(one, f)).mode & 0o777, 0o600, f);
  assert.match(readFileSync(join(one, "stdout"), "utf8"), /pilot starting on/);
  const outcome = JSON.parse(readFileSync(join(one, "outcome.json"), "utf8")) as {
    failed: boolean;
    failureClass: string;
    exitCode: number;
    lastLines: string[];
  };
  assert.equal(outcome.failed, true);
  assert.equal(outcome.failureClass, "WN_Resource");
  assert.equal(outcome.exitCode, 11);
  assert.deepEqual(outcome.lastLines, ["validation failed: only 2 GB of scratch disk"]);

  const file = join(w.dir, "factory-logs.yaml");
  writeFileSync(file, JSON.stringify(raw));
  const r = await runCli(
    ["factory", "logs", "--config", file, "--entry", "local1", "--failed", "--last", "1"],
    process.env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/^=== pilot /gm)?.length, 1);
  assert.match(r.stdout, /entry local1 {2}client fe\.main .* exit 11 {2}FAILED WN_Resource/);
  assert.match(r.stdout, /--- stderr .*\nvalidation failed: only 2 GB of scratch disk\n/);
  const json = await runCli(
    ["factory", "logs", "--config", file, "--entry", "local1", "--json"],
    process.env,
  );
  assert.equal((JSON.parse(json.stdout) as unknown[]).length, pilots.length);
  const bad = await runCli(["factory", "logs", "--config", file, "--entry", "nope"], process.env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /no entry 'nope' in the configuration \(have: local1\)/);
});

test("logs are pruned by age, then oldest first down to the size bound", () => {
  const root = mkdtempSync(join(tmpdir(), "updraft-pilot-logs-"));
  try {
    const store = new PilotLogStore(root, {
      max_age_s: 3600,
      max_bytes: 2500,
      max_file_bytes: 1000,
    });
    const now = 10_000_000;
    const keep = (id: number, ageS: number) =>
      store.keep(
        {
          pilotId: id,
          entry: "e1",
          client: "fe.main",
          finishedAt: now - ageS * 1000,
          exitCode: 0,
          failed: false,
          lastLines: [],
        },
        { stdout: "x".repeat(5000), stderr: "" },
      );
    keep(1, 7200); // past the age
    keep(2, 300);
    keep(3, 200);
    keep(4, 100);
    const r = store.prune(now);
    // Each pilot is ~1.2 kB (stdout cut to 1000 bytes): the old one and one more must go.
    const left = store.read({ entry: "e1" }).map((l) => l.pilotId);
    assert.deepEqual(left, [4, 3]);
    assert.equal(r.removed, 2);
    assert.ok(r.bytes <= 2500);
    const out = store.read({ entry: "e1", last: 1 })[0]!.stdout;
    assert.match(out, /^\[updraft: first 4000 bytes not kept\]\n/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a hostile client name stays one folder under its entry", () => {
  const root = mkdtempSync(join(tmpdir(), "updraft-pilot-logs-"));
  try {
    const store = new PilotLogStore(root);
    for (const client of ["../../../etc", "..", ".", "", "a/b", "fe\u0000x", "x".repeat(500)]) {
      const dir = store.keep(
        {
          pilotId: 1,
          entry: "e1",
          client,
          finishedAt: 1,
          exitCode: 1,
          failed: true,
          lastLines: [],
        },
        { stdout: "", stderr: "" },
      );
      assert.equal(resolve(dir, "..", ".."), resolve(root, "e1"), JSON.stringify(client));
      assert.ok(clientDirName(client).length <= 100);
    }
    assert.notEqual(clientDirName("a/b"), clientDirName("a_b"), "no two clients share a folder");
    assert.equal(clientDirName("fe.main"), "fe.main");
    assert.equal(tailBytes("abc", 10), "abc");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a failure summary is one bounded line from the node's hostile output: class, message, last stderr lines", () => {
  const stderr =
    Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join("\n") +
    "\n\u001b[31mred\u0007 <b>bold</b>\r\n" +
    "y".repeat(10_000) +
    "\n";
  const s = failureSummary(
    9,
    11,
    {
      reported: true,
      jobsRun: 0,
      exitReason: "validation",
      failureClass: "WN_Resource",
      failureMessage: "no\ndisk\u0000",
    },
    stderr,
  );
  assert.ok(s.length <= 640, `${s.length} characters`);
  assert.ok(
    Array.from(s).every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f),
    "no control character",
  );
  assert.match(
    s,
    /^pilot 9 failed \(exit 11, validation, WN_Resource\): no disk; stderr: line 9999 \| \[31mred <b>bold<\/b> \| y+$/,
  );
  assert.equal(
    failureSummary(3, null, { reported: false, jobsRun: 0 }, ""),
    "pilot 3 failed (exit ?)",
  );
});

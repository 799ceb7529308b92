/**
 * A pilot started by the bootstrap (installed mode, real processes) whose credential file or
 * trust directory is missing stops before it advertises anything to a real collector: VO_Proxy
 * for the credential (validation reads it), Config for the trust directory (needed to connect),
 * each with a message naming the path. The same pilot with both present does reach the
 * collector, so "nothing advertised" is measured, not assumed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePilotOutput, type PilotReport } from "../../src/pilot/report.js";
import type { Running } from "../collector/harness.js";
import { startTestCollector } from "../helpers/pilot-collector.js";
import { DN, testPki } from "../schedd/harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const UPDRAFT = join(repo, "bin/updraft.js");

const { pki, creds } = testPki();
const dir = mkdtempSync(join(tmpdir(), "updraft-bootstrap-creds-"));
const credential = join(dir, "pilot.pem");
let collector: Running;

before(async () => {
  writeFileSync(credential, creds.pilot.certPem + creds.pilot.keyPem, { mode: 0o600 });
  collector = await startTestCollector(pki, [{ identity: DN.pilot, roles: ["pilot", "read"] }]);
});

after(async () => {
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The pilot removes the credential file it was given, as its own copy: each run gets one. */
let copies = 0;
function copyOf(file: string): string {
  const to = join(dir, `pilot-copy-${copies++}.pem`);
  copyFileSync(file, to);
  return to;
}

/** Updates the collector took from anyone but itself. */
const updates = () => collector.daemon.core.updates.total;

function pilot(
  cred: string,
  trustDir: string,
): Promise<{ code: number | null; report?: PilotReport; out: string }> {
  const wb = mkdtempSync(join(dir, "work-"));
  return new Promise((resolve) => {
    const child = spawn(
      "/bin/sh",
      [SCRIPT, "--installed", "--updraft", UPDRAFT, "--work-base", wb]
        .concat(["--collector", collector.url, "--credential", cred, "--trust-dir", trustDir])
        .concat(["--max-idle", "0.5", "--max-walltime", "600"]),
      {
        cwd: wb,
        env: { PATH: process.env.PATH ?? "", HOME: wb },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, report: parsePilotOutput(out).report, out }));
  });
}

test("a missing credential file stops the pilot with VO_Proxy before it advertises", async () => {
  const before = updates();
  const missing = join(dir, "no-such-proxy.pem");
  const r = await pilot(missing, pki.caDir);
  assert.equal(r.code, 15, r.out);
  assert.equal(r.report?.exit.reason, "validation");
  assert.equal(r.report?.exit.failureClass, "VO_Proxy");
  assert.equal(r.report?.exit.message, `cannot read credential ${missing}`);
  assert.equal(updates(), before, "the collector heard nothing from the pilot");
});

test("a missing trust directory stops the pilot with Config before it advertises", async () => {
  const before = updates();
  const missing = join(dir, "no-such-certificates");
  const r = await pilot(copyOf(credential), missing);
  assert.equal(r.code, 13, r.out);
  assert.equal(r.report?.exit.failureClass, "Config");
  assert.equal(r.report?.exit.message, `trust directory ${missing} (X509_CERT_DIR) does not exist`);
  assert.equal(updates(), before, "the collector heard nothing from the pilot");
});

test("with both present the same pilot does advertise to the collector", async () => {
  const before = updates();
  const r = await pilot(copyOf(credential), pki.caDir);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.report?.exit.reason, "idle");
  assert.ok(updates() > before, "the collector took the pilot's slot ad");
});

/**
 * The bootstrap with a real staging area: this Updraft build's pilot install archive (what
 * `updraft factory stage` writes) and a site validation script as a separate file, hashed and
 * served by the factory's staging server over HTTPS, downloaded, checked, unpacked and started
 * as `updraft pilot run` from the unpacked files only.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { INSTALL_ARCHIVE, writeInstallArchive } from "../../src/factory/staging/install.js";
import {
  stageDirectory,
  startStagingServer,
  type StagingServer,
} from "../../src/factory/staging/staging-area.js";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");

let pki: TestPki;
const servers: StagingServer[] = [];
const root = mkdtempSync(join(tmpdir(), "updraft-staged-install-"));
const siteMarker = join(root, "site-script-ran");
let good: { url: string; sha: string; files: number };

/** Stage `dir` as the factory does and serve it; returns its URL and manifest hash. */
async function serve(
  dir: string,
  validate: { kind: "site" | "vo"; path: string }[] = [],
): Promise<{ url: string; sha: string; dir: string }> {
  const area = stageDirectory(dir, { validate });
  const server = await startStagingServer({
    dir,
    area,
    certPem: readFileSync(pki.host.certFile, "utf8"),
    keyPem: readFileSync(pki.host.keyFile, "utf8"),
    host: "127.0.0.1",
    port: 0,
  });
  servers.push(server);
  return { url: server.url, sha: area.manifestSha256, dir };
}

before(async () => {
  pki = createTestPki();
  const dir = join(root, "staging");
  mkdirSync(join(dir, "validate"), { recursive: true });
  const w = writeInstallArchive(repo, dir);
  writeFileSync(
    join(dir, "validate", "site-check.sh"),
    `touch '${siteMarker}'\necho '{"status":"OK","attrs":{"SITE_CHECKED":true}}'\n`,
  );
  const s = await serve(dir, [{ kind: "site", path: "validate/site-check.sh" }]);
  good = { url: s.url, sha: s.sha, files: w.files };
});

after(async () => {
  for (const s of servers) await s.close();
  pki?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

function bootstrap(
  url: string,
  sha: string,
  extra: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; workBase: string }> {
  const wb = mkdtempSync(join(root, "work-"));
  return new Promise((resolve) => {
    const child = spawn(
      "/bin/sh",
      [SCRIPT, "--staging", url, "--manifest-sha256", sha, "--cacert", pki.caCertFile]
        .concat(["--work-base", wb, "--max-idle", "0", "--entry", "staged_entry"])
        .concat(extra),
      // No access to the repository's node_modules: HOME and cwd elsewhere, a plain PATH.
      {
        cwd: wb,
        env: { PATH: process.env.PATH ?? "", HOME: wb },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr, workBase: wb }));
  });
}

test("the staged install archive is downloaded, checked, unpacked and run as the pilot", async (t) => {
  const t0 = performance.now();
  const r = await bootstrap(good.url, good.sha);
  const ms = performance.now() - t0;
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const p = parsePilotOutput(r.stdout);
  assert.equal(p.report?.entry, "staged_entry");
  assert.equal(p.report?.exit.reason, "idle");
  assert.equal(p.report?.validation.ok, true);
  assert.ok(existsSync(siteMarker), "the staged site script ran");
  assert.deepEqual(readdirSync(r.workBase), [], "work directory removed");
  t.diagnostic(
    `staged bootstrap of one archive (${good.files} files) to pilot exit: ${Math.round(ms)} ms`,
  );
});

test("a tampered install archive stops the pilot with Corruption before it starts", async () => {
  const dir = join(root, "tampered");
  mkdirSync(dir);
  const w = writeInstallArchive(repo, dir);
  const s = await serve(dir);
  // Changed after the manifest was made: same size, one byte different.
  const bytes = readFileSync(w.file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(w.file, bytes);
  const r = await bootstrap(s.url, s.sha);
  assert.equal(r.code, 16, r.stderr + r.stdout);
  const p = parsePilotOutput(r.stdout);
  assert.equal(p.report?.exit.failureClass, "Corruption");
  assert.match(p.report?.exit.message ?? "", new RegExp(`file ${INSTALL_ARCHIVE} has SHA-256`));
  // The bootstrap's own report: the pilot never started.
  assert.deepEqual(
    p.report?.validation.checks.map((c) => c.name),
    ["bootstrap"],
  );
  assert.deepEqual(readdirSync(r.workBase), [], "work directory removed");
});

test("an archive that matches its hash but does not unpack is Corruption", async () => {
  const dir = join(root, "garbage");
  mkdirSync(dir);
  writeFileSync(join(dir, INSTALL_ARCHIVE), "this is not gzip\n");
  const s = await serve(dir);
  const r = await bootstrap(s.url, s.sha);
  assert.equal(r.code, 16, r.stderr + r.stdout);
  const p = parsePilotOutput(r.stdout);
  assert.equal(p.report?.exit.failureClass, "Corruption");
  assert.match(p.report?.exit.message ?? "", /cannot unpack install archive/);
});

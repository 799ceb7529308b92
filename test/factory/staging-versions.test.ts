/**
 * Versioned staging: a factory restarted on a newly staged folder still serves the version its
 * queued pilots were submitted with, so they start instead of ending as Corruption; once the
 * entries' longest queue plus walltime has passed, the old version is purged and a pilot that
 * names it ends with a clear download failure.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { writeInstallArchive } from "../../src/factory/staging/install.js";
import {
  stageDirectory,
  startStagingServer,
  type StagingServer,
} from "../../src/factory/staging/staging-area.js";
import { openVersionStore, versionsToPurge } from "../../src/factory/staging/versions.js";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const root = mkdtempSync(join(tmpdir(), "updraft-staging-versions-"));
const stagingDir = join(root, "staging");
let pki: TestPki;

before(() => {
  pki = createTestPki();
  mkdirSync(join(stagingDir, "validate"), { recursive: true });
  writeInstallArchive(repo, stagingDir);
});
after(() => {
  pki?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** The factory's start: hash the folder, keep it as the current version, serve. */
async function factoryStart(nowMs: number): Promise<{ server: StagingServer; sha: string }> {
  const area = stageDirectory(stagingDir, {
    validate: [{ kind: "site", path: "validate/check.sh" }],
  });
  const versions = openVersionStore(join(root, "versions"));
  versions.makeCurrent(area, stagingDir, nowMs);
  const server = await startStagingServer({
    dir: stagingDir,
    area,
    certPem: readFileSync(pki.host.certFile, "utf8"),
    keyPem: readFileSync(pki.host.keyFile, "utf8"),
    host: "127.0.0.1",
    port: 0,
    versions,
  });
  return { server, sha: area.manifestSha256 };
}

function bootstrap(url: string, sha: string) {
  const wb = mkdtempSync(join(root, "work-"));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      "/bin/sh",
      [SCRIPT, "--staging", url, "--manifest-sha256", sha, "--cacert", pki.caCertFile].concat([
        "--work-base",
        wb,
        "--max-idle",
        "0",
      ]),
      { env: { PATH: process.env.PATH ?? "", HOME: wb }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("only retired versions past the keep time are purged", () => {
  const v = (sha: string, retiredMs?: number, current = false) => ({
    sha256: sha,
    addedMs: 0,
    retiredMs,
    current,
  });
  assert.deepEqual(
    versionsToPurge([v("a", 100), v("b", 500), v("c", undefined, true)], 1100, 1000),
    ["a"],
  );
});

test("a pilot queued before a restage and restart starts from its own version; purged, it fails clearly", async () => {
  const day = 86_400_000;
  writeFileSync(join(stagingDir, "validate", "check.sh"), 'echo \'{"status":"OK"}\'\n');
  const first = await factoryStart(0);
  await first.server.close();

  // A new build staged (here: a changed site script) and the factory restarted a day later.
  writeFileSync(
    join(stagingDir, "validate", "check.sh"),
    'echo \'{"status":"OK","attrs":{"V":2}}\'\n',
  );
  const second = await factoryStart(day);
  try {
    assert.notEqual(second.sha, first.sha);
    // The pilot queued with the first version's URL and hash still starts.
    const old = await bootstrap(`${second.server.url}/v/${first.sha}`, first.sha);
    assert.equal(old.code, 0, old.stderr + old.stdout);
    assert.equal(parsePilotOutput(old.stdout).report?.validation.ok, true);
    // Without versions (the folder's root), the same pilot would have been Corruption.
    const unversioned = await bootstrap(second.server.url, first.sha);
    assert.equal(unversioned.code, 16);
    // New pilots get the new version.
    const fresh = await bootstrap(`${second.server.url}/v/${second.sha}`, second.sha);
    assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout);

    const store = openVersionStore(join(root, "versions"));
    const listed = store.list();
    assert.deepEqual(
      listed.map((v) => [v.sha256, v.current, v.retiredMs]),
      [
        [first.sha, false, day],
        [second.sha, true, undefined],
      ],
    );
    // Kept while its pilots may start; purged after.
    assert.deepEqual(store.purge(day + 2 * day - 1, 2 * day), []);
    assert.deepEqual(store.purge(day + 2 * day, 2 * day), [first.sha]);
    // Objects only the first version listed are gone; the shared archive stays.
    const objects = readdirSync(join(root, "versions", "objects"));
    assert.equal(objects.length, 2, objects.join(" "));
    assert.ok(existsSync(join(root, "versions", "versions", `${second.sha}.txt`)));

    const purged = await bootstrap(`${second.server.url}/v/${first.sha}`, first.sha);
    assert.equal(purged.code, 12, purged.stderr + purged.stdout);
    const exit = parsePilotOutput(purged.stdout).report?.exit;
    assert.equal(exit?.failureClass, "Network");
    assert.match(
      exit?.message ?? "",
      new RegExp(`cannot download .*/v/${first.sha}/manifest\\.txt`),
    );
  } finally {
    await second.server.close();
  }
});

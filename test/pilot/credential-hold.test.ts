/**
 * The pilot credential is out of a job's reach: the bootstrap, given the credential the way the
 * factory's adapters give it (UPDRAFT_PILOT_CREDENTIAL and X509_USER_PROXY), starts the pilot with
 * neither variable nor the credential's path in its environment (what /proc/<pilot>/environ shows
 * any process of the same user), and the pilot removes the file once read. The same pilot still
 * authenticates to a real collector with the credential it holds in memory.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePilotOutput } from "../../src/pilot/report.js";
import type { Running } from "../collector/harness.js";
import { startTestCollector } from "../helpers/pilot-collector.js";
import { DN, testPki } from "../schedd/harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const UPDRAFT = join(repo, "bin/updraft.js");

const { pki, creds } = testPki();
const dir = mkdtempSync(join(tmpdir(), "updraft-credential-hold-"));
let collector: Running;

before(async () => {
  collector = await startTestCollector(pki, [{ identity: DN.pilot, roles: ["pilot", "read"] }]);
});

after(async () => {
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const children = (pid: number): number[] => {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
};

/** A bootstrap child may exit between listing and reading; it is then simply not the pilot. */
const readProc = (pid: number, file: string): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
};

test("the pilot's environment names no credential and the credential file is gone once read", async () => {
  const credential = join(dir, "x509up_pilot");
  writeFileSync(credential, creds.pilot.certPem + creds.pilot.keyPem, { mode: 0o600 });
  const before = collector.daemon.core.updates.total;
  const child = spawn(
    "/bin/sh",
    [SCRIPT, "--installed", "--updraft", UPDRAFT, "--work-base", dir]
      .concat(["--collector", collector.url, "--trust-dir", pki.caDir])
      .concat(["--max-idle", "4", "--max-walltime", "600"]),
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        UPDRAFT_PILOT_CREDENTIAL: credential,
        X509_USER_PROXY: credential,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("close", r));

  // The pilot is the bootstrap's Node child; read its environment as a job of the same user could.
  let environ: string | undefined;
  for (let i = 0; i < 200 && environ === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    for (const pid of children(child.pid!)) {
      if (readProc(pid, "cmdline")?.includes("pilot\0run")) environ = readProc(pid, "environ");
    }
  }
  assert.ok(environ, `found the pilot process: ${out}`);
  const vars = environ.split("\0");
  assert.deepEqual(
    vars.filter((v) => /^(X509_USER_PROXY|UPDRAFT_PILOT_CREDENTIAL)=/.test(v)),
    [],
    "no credential variable in the pilot's environment",
  );
  assert.ok(!environ.includes(credential), "the credential's path is nowhere in it");

  const code = await exited;
  assert.equal(code, 0, out);
  assert.equal(parsePilotOutput(out).report?.exit.reason, "idle", out);
  assert.equal(existsSync(credential), false, "the pilot removed its copy of the credential");
  assert.ok(
    collector.daemon.core.updates.total > before,
    "the collector took the slot ad the pilot signed with the credential it held in memory",
  );
});

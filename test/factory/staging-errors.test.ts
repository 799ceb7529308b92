/**
 * What `updraft factory stage` and the factory's staging refuse carries a catalogued code: a
 * runtime that cannot be staged, an incomplete build, a path too long for the install archive and
 * a staging file a pilot would refuse. The messages are unchanged.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { hasErrorCode, type ErrorCode } from "../../src/common/errors.js";
import { pilotInstallFiles } from "../../src/factory/staging/install.js";
import { enginesMinMajor, stageRuntimes } from "../../src/factory/staging/runtime.js";
import { stageDirectory } from "../../src/factory/staging/staging-area.js";
import { splitPath } from "../../src/factory/staging/ustar.js";

const root = mkdtempSync(join(tmpdir(), "updraft-staging-errors-"));
after(() => rmSync(root, { recursive: true, force: true }));

function coded(code: ErrorCode, message: RegExp) {
  return (err: unknown) => {
    assert.ok(hasErrorCode(err, code), `expected ${code}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  };
}

test("an unknown machine, a missing npm or an unreadable engines range is runtime-stage", async () => {
  await assert.rejects(
    stageRuntimes(join(root, "rt1"), { machines: ["sparc64"] }),
    coded("runtime-stage", /no Node\.js runtime for sparc64 \(there are: /),
  );
  await assert.rejects(
    stageRuntimes(join(root, "rt2"), { machines: ["x86_64"], npm: join(root, "no-npm") }),
    coded("runtime-stage", /not found: staging a runtime needs the npm client/),
  );
  assert.throws(
    () => enginesMinMajor("latest"),
    coded("runtime-stage", /cannot read a Node\.js version from engines 'latest'/),
  );
});

test("a build without the pilot's modules is pilot-install, naming what is missing", () => {
  const empty = mkdtempSync(join(root, "build-"));
  assert.throws(
    () => pilotInstallFiles(empty),
    coded("pilot-install", /pilot install: .* is missing; build first/),
  );
});

test("a path too long for ustar is tar-path", () => {
  assert.throws(
    () => splitPath(`${"d".repeat(200)}/x.js`),
    coded("tar-path", /is too long for ustar/),
  );
});

test("a staging file with a name a pilot would refuse is staging-file", () => {
  const dir = mkdtempSync(join(root, "stage-"));
  mkdirSync(join(dir, "hooks"));
  writeFileSync(join(dir, "hooks", "wrap me.sh"), "#!/bin/sh\n");
  assert.throws(
    () => stageDirectory(dir),
    coded("staging-file", /staging file 'hooks\/wrap me\.sh': unsafe name for a pilot/),
  );
});

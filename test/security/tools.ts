/**
 * Real grid tools for interop tests. A missing tool is a failure that says which Debian package
 * to install, never a skip: CI's .ci/run installs them.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";

const PACKAGES: Record<string, string> = {
  openssl: "openssl",
  "grid-proxy-init": "globus-proxy-utils",
  "grid-proxy-info": "globus-proxy-utils",
  "voms-proxy-info": "voms-clients",
};

export function requireTool(tool: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  const pkg = PACKAGES[tool] ?? tool;
  assert.equal(
    found.status,
    0,
    `${tool} is not installed: install the Debian package with "apt-get install -y ${pkg}" (CI's .ci/run does)`,
  );
}

export function run(
  tool: string,
  args: string[],
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  requireTool(tool);
  return spawnSync(tool, args, {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
}

export const output = (r: SpawnSyncReturns<string>) => `${r.stdout}${r.stderr}`;

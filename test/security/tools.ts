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
  "voms-proxy-fake": "voms-clients",
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

/**
 * A VOMS proxy as voms-proxy-init makes one, by the VOMS clients' own voms-proxy-fake: the
 * attribute certificate is signed with `host`'s key as a VOMS server's would be (no server runs).
 */
export function vomsProxy(o: {
  user: { certFile: string; keyFile: string };
  host: { certFile: string; keyFile: string };
  vo: string;
  fqans: string[];
  out: string;
  hours?: number;
}): void {
  const args = ["-cert", o.user.certFile, "-key", o.user.keyFile];
  args.push("-hostcert", o.host.certFile, "-hostkey", o.host.keyFile);
  args.push("-voms", o.vo, "-uri", "voms.example.org:15002", "-rfc", "-bits", "2048");
  args.push("-hours", String(o.hours ?? 12), "-out", o.out, "-q");
  for (const f of o.fqans) args.push("-fqan", f);
  const r = run("voms-proxy-fake", args);
  assert.equal(r.status, 0, output(r));
}

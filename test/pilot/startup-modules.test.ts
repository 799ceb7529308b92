/**
 * What a pilot loads at start: the `pilot` command and its collector and schedd clients, in a
 * process of their own with a module hook listing every module loaded. None of the parts only
 * daemons or certificate makers need may come along: node-forge (certificates, proxies, CRLs),
 * zod (configuration schemas), jose's signing and verification, the RPC server, the collector's
 * service. Each was loaded by every pilot before, most of the CPU and time of its start.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../../src/", import.meta.url));

const HOOK = `
export async function load(url, context, next) {
  process.stderr.write("loaded " + url + "\\n");
  return next(url, context);
}`;

const MAIN = `
import { register } from "node:module";
import { createRequire } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOK)}));
await import(${JSON.stringify(`${dist}cli/pilot-command.js`)});
await import(${JSON.stringify(`${dist}pilot/connect.js`)});
// CommonJS packages loaded by require() from ES modules pass no load hook: list them too.
for (const f of Object.keys(createRequire(import.meta.url).cache)) {
  process.stderr.write("loaded " + f + "\\n");
}
`;

function modulesLoaded(): string[] {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", MAIN], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("loaded "))
    .map((l) => l.slice("loaded ".length));
}

test("a pilot starts without the modules only daemons and certificate makers need", () => {
  const loaded = modulesLoaded();
  // The hook sees the pilot's own modules, so an empty list cannot pass.
  assert.ok(
    loaded.some((m) => m.endsWith("/pilot/pilot-main.js")),
    loaded.join("\n"),
  );
  assert.ok(loaded.some((m) => m.endsWith("/wire/client.js")));
  const unwanted = [
    /\/node_modules\/node-forge\//,
    /\/node_modules\/zod\//,
    /\/node_modules\/jose\/dist\/webapi\/index\.js$/,
    /\/node_modules\/jose\/dist\/webapi\/jwt\/sign\.js$/,
    /\/src\/wire\/server\.js$/,
    /\/src\/collector\/service\.js$/,
    /\/src\/security\/cert-builder\.js$/,
  ];
  for (const pattern of unwanted) {
    const found = loaded.filter((m) => pattern.test(m));
    assert.deepEqual(found, [], `${pattern} should not load at a pilot's start`);
  }
});

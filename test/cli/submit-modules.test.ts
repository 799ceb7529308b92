/**
 * What `updraft submit` and `updraft q` load before they reach a schedd, in a process of their own
 * with a module hook listing every module loaded: their start is on the way from a user's command
 * to the first job. Neither the RPC server (with node-forge and the chain verification) nor,
 * without a user config file, zod and the YAML parser (for that file alone) may come along.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../../src/", import.meta.url));

const HOOK = `
export async function load(url, context, next) {
  process.stderr.write("loaded " + url + "\\n");
  return next(url, context);
}`;

/** The modules loaded by importing the commands and resolving the client settings. */
function modulesLoaded(env: NodeJS.ProcessEnv): string[] {
  const main = `
import { register, createRequire } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOK)}));
await import(${JSON.stringify(`${dist}cli/submit-command.js`)});
await import(${JSON.stringify(`${dist}cli/queue-commands.js`)});
const { resolveClientSettings } = await import(${JSON.stringify(`${dist}cli/client-settings.js`)});
await resolveClientSettings({ pool: "wss://localhost:1/" });
for (const f of Object.keys(createRequire(import.meta.url).cache)) {
  process.stderr.write("loaded " + f + "\\n");
}
`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", main], {
    encoding: "utf8",
    env,
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("loaded "))
    .map((l) => l.slice("loaded ".length));
}

const matching = (loaded: string[], pattern: RegExp) => loaded.filter((m) => pattern.test(m));

test("updraft submit and q start without the RPC server, node-forge, zod or the YAML parser", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-submit-modules-"));
  try {
    const loaded = modulesLoaded({ ...process.env, UPDRAFT_CONFIG: join(dir, "none.yaml") });
    // The hook sees the commands' own modules, so an empty list cannot pass.
    assert.ok(
      loaded.some((m) => m.endsWith("/cli/submit-command.js")),
      loaded.join("\n"),
    );
    assert.ok(loaded.some((m) => m.endsWith("/wire/client.js")));
    const unwanted = [
      /\/node_modules\/node-forge\//,
      /\/node_modules\/zod\//,
      /\/node_modules\/yaml\//,
      /\/src\/wire\/server\.js$/,
      /\/src\/security\/trust\.js$/,
    ];
    for (const pattern of unwanted) {
      assert.deepEqual(matching(loaded, pattern), [], `${pattern} should not load`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a user config file is still read and checked, loading the schema and YAML parser for it", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-submit-modules-"));
  try {
    const file = join(dir, "client.yaml");
    writeFileSync(file, "pool: wss://localhost:2/\n");
    const loaded = modulesLoaded({ ...process.env, UPDRAFT_CONFIG: file });
    assert.notDeepEqual(matching(loaded, /\/node_modules\/zod\//), []);
    assert.notDeepEqual(matching(loaded, /\/node_modules\/yaml\//), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * What `updraft submit` and `updraft q` load before they reach a schedd, in a process of their own
 * with a module hook listing every module loaded: their start is on the way from a user's command
 * to the first job. Neither the RPC server (with node-forge and the chain verification) nor,
 * without a user config file, zod and the YAML parser (for that file alone) may come along.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  assertNotLoaded,
  DIST_SRC,
  matching,
  modulesLoaded as loadedBy,
} from "../helpers/modules-loaded.js";

/** The modules loaded by importing the commands and resolving the client settings. */
const modulesLoaded = (env: NodeJS.ProcessEnv) =>
  loadedBy(
    `
await import(${JSON.stringify(`${DIST_SRC}cli/submit-command.js`)});
await import(${JSON.stringify(`${DIST_SRC}cli/queue-commands.js`)});
const { resolveClientSettings } = await import(${JSON.stringify(`${DIST_SRC}cli/client-settings.js`)});
await resolveClientSettings({ pool: "wss://localhost:1/" });
`,
    env,
  );

test("updraft submit and q start without the RPC server, node-forge, zod or the YAML parser", () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-submit-modules-"));
  try {
    const loaded = modulesLoaded({ ...process.env, UPDRAFT_CONFIG: join(dir, "none.yaml") });
    assert.ok(loaded.some((m) => m.endsWith("/wire/client.js")));
    assertNotLoaded(
      loaded,
      "/cli/submit-command.js",
      [
        /\/node_modules\/node-forge\//,
        /\/node_modules\/zod\//,
        /\/node_modules\/yaml\//,
        /\/src\/wire\/server\.js$/,
        /\/src\/security\/trust\.js$/,
      ],
      "at updraft submit's or q's start",
    );
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

/**
 * What a pilot loads at start: the `pilot` command and its collector and schedd clients, in a
 * process of their own with a module hook listing every module loaded. None of the parts only
 * daemons or certificate makers need may come along: node-forge (certificates, proxies, CRLs),
 * zod (configuration schemas), jose's signing and verification, the RPC server, the collector's
 * service. Each was loaded by every pilot before, most of the CPU and time of its start.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertNotLoaded, DIST_SRC, modulesLoaded } from "../helpers/modules-loaded.js";

test("a pilot starts without the modules only daemons and certificate makers need", () => {
  const loaded = modulesLoaded(`
await import(${JSON.stringify(`${DIST_SRC}cli/pilot-command.js`)});
await import(${JSON.stringify(`${DIST_SRC}pilot/connect.js`)});
`);
  assert.ok(loaded.some((m) => m.endsWith("/wire/client.js")));
  assertNotLoaded(
    loaded,
    "/pilot/pilot-main.js",
    [
      /\/node_modules\/node-forge\//,
      /\/node_modules\/zod\//,
      /\/node_modules\/jose\/dist\/webapi\/index\.js$/,
      /\/node_modules\/jose\/dist\/webapi\/jwt\/sign\.js$/,
      /\/src\/wire\/server\.js$/,
      /\/src\/collector\/service\.js$/,
      /\/src\/security\/cert-builder\.js$/,
    ],
    "at a pilot's start",
  );
});

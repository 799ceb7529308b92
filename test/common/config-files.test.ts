/**
 * Every example configuration under config/ is valid for its daemon and written in the current
 * vocabulary: loading it meets no old spelling, so an operator who starts from one never sees a
 * deprecation warning.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { yamlFiles } from "../helpers/yaml-files.js";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { loadConfigFile } from "../../src/common/config.js";
import { configDeprecations, type KeyRename } from "../../src/common/config-renames.js";
import { COLLECTOR_RENAMES, collectorConfigSchema } from "../../src/collector/config.js";
import { FACTORY_RENAMES, factoryConfigSchema } from "../../src/factory/config.js";
import { FRONTEND_RENAMES, frontendConfigSchema } from "../../src/frontend/config.js";
import { SCHEDD_RENAMES, scheddConfigSchema } from "../../src/schedd/config.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

const DAEMONS: [prefix: string, schema: z.ZodType, renames: readonly KeyRename[]][] = [
  ["collector", collectorConfigSchema, COLLECTOR_RENAMES],
  ["schedd", scheddConfigSchema, SCHEDD_RENAMES],
  ["factory", factoryConfigSchema, FACTORY_RENAMES],
  ["frontend", frontendConfigSchema, FRONTEND_RENAMES],
];

/** A value for each `${VAR}` the file names: a distinct port each, which also serves as a path. */
function envFor(text: string): Record<string, string> {
  const names = [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!))];
  return Object.fromEntries(names.map((n, i) => [n, String(20_000 + i)]));
}

const files = yamlFiles(join(root, "config"));

test("config/ holds an example for every daemon", () => {
  for (const [prefix] of DAEMONS) {
    assert.ok(
      files.some((f) => relative(root, f) === `config/${prefix}.yaml`),
      `config/${prefix}.yaml`,
    );
  }
});

for (const file of files) {
  const name = relative(root, file);
  test(`${name} loads for its daemon with no old spelling`, () => {
    const base = file.slice(file.lastIndexOf("/") + 1);
    const daemon = DAEMONS.find(([prefix]) => base.startsWith(prefix));
    assert.ok(daemon, `${name}: no daemon's name begins the file name`);
    const [, schema, renames] = daemon;
    const config = loadConfigFile(schema, file, envFor(readFileSync(file, "utf8")), renames);
    assert.deepEqual(
      configDeprecations(config as object).map((d) => d.from),
      [],
    );
  });
}

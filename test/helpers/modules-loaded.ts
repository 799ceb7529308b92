/**
 * Which modules some code loads, run in a process of its own: a module hook lists every ES
 * module as it loads, and the CommonJS cache then adds the packages loaded by require() from ES
 * modules, which pass no load hook. Tests keep heavy modules off a command's start with it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built src/ folder, for the `import`s of the code run. */
export const DIST_SRC = fileURLToPath(new URL("../../src/", import.meta.url));

const HOOK = `
export async function load(url, context, next) {
  process.stderr.write("loaded " + url + "\\n");
  return next(url, context);
}`;

/**
 * The modules (file URLs of ES modules, paths of CommonJS ones) loaded by `body`, an ES module's
 * top-level code (it may `await import(...)`), run with `env` (this process's by default).
 */
export function modulesLoaded(body: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const main = `
import { register, createRequire } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOK)}));
${body}
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

/** The loaded modules matching `pattern`. */
export function matching(loaded: readonly string[], pattern: RegExp): string[] {
  return loaded.filter((m) => pattern.test(m));
}

/**
 * Fails naming each pattern of `unwanted` that a loaded module matches, after checking that the
 * list holds `expected` (a module the code surely loads), so an empty list cannot pass.
 */
export function assertNotLoaded(
  loaded: readonly string[],
  expected: string,
  unwanted: readonly RegExp[],
  where: string,
): void {
  assert.ok(
    loaded.some((m) => m.endsWith(expected)),
    `${expected} not among the modules seen:\n${loaded.join("\n")}`,
  );
  for (const pattern of unwanted) {
    assert.deepEqual(matching(loaded, pattern), [], `${pattern} should not load ${where}`);
  }
}

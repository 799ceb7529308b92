/**
 * Every folder under src/ has a README.md whose file table names every file and folder in it,
 * and names nothing that is gone: the maps a newcomer reads first stay true. A name counts when
 * it is in backquotes in the first cell of a table row (`| \`store.ts\` | ... |`; a folder as
 * `adapters/`).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SRC = join(ROOT, "src");

/** The names in backquotes in the first cell of each table row (header and rule rows included). */
function namesInFileTables(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("|")) continue;
    const first = line.split("|")[1] ?? "";
    for (const m of first.matchAll(/`([^`]+)`/g)) names.add(m[1]!);
  }
  return names;
}

/** Looks like a file or folder of this folder (not a method name or a path elsewhere). */
const LOCAL_NAME = /^(?:[\w.-]+\.(?:ts|js|mjs|css|html|svg|proto|json)|[\w-]+\/)$/;

/** What is wrong with one folder's README: each problem names the file. */
function readmeProblems(entries: readonly { name: string; dir: boolean }[], readme?: string) {
  if (readme === undefined) return ["no README.md"];
  const named = namesInFileTables(readme);
  const problems: string[] = [];
  const present = new Set<string>();
  for (const e of entries) {
    if (e.name === "README.md") continue;
    const shown = e.dir ? `${e.name}/` : e.name;
    present.add(shown);
    if (!named.has(shown) && !named.has(e.name)) problems.push(`${shown} is not in the file table`);
  }
  for (const n of named) {
    if (LOCAL_NAME.test(n) && !present.has(n) && !present.has(`${n}/`))
      problems.push(`${n} is in the file table but not in the folder`);
  }
  return problems;
}

function folders(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => folders(join(dir, e.name))),
  ];
}

test("every folder under src/ has a README whose file table names exactly its files", () => {
  const problems: string[] = [];
  for (const dir of folders(SRC)) {
    const entries = readdirSync(dir).map((name) => ({
      name,
      dir: statSync(join(dir, name)).isDirectory(),
    }));
    const file = join(dir, "README.md");
    const readme = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    for (const p of readmeProblems(entries, readme)) problems.push(`${relative(ROOT, dir)}: ${p}`);
  }
  assert.deepEqual(problems, []);
});

test("the check names a missing file, a stale one and a missing README", () => {
  const readme = [
    "| file | what |",
    "| --- | --- |",
    "| `a.ts`, `b.ts` | two files in one row |",
    "| `gone.ts` | deleted since |",
    "| `sub/` | a folder |",
    "| `collector.Advertise` | a method, not a file |",
  ].join("\n");
  const entries = [
    { name: "a.ts", dir: false },
    { name: "b.ts", dir: false },
    { name: "new.ts", dir: false },
    { name: "sub", dir: true },
    { name: "README.md", dir: false },
  ];
  assert.deepEqual(readmeProblems(entries, readme), [
    "new.ts is not in the file table",
    "gone.ts is in the file table but not in the folder",
  ]);
  assert.deepEqual(readmeProblems(entries, undefined), ["no README.md"]);
});

test("the root README links the architecture page, which exists", () => {
  assert.match(readFileSync(join(ROOT, "README.md"), "utf8"), /\(docs\/architecture\.md\)/);
  assert.ok(existsSync(join(ROOT, "docs", "architecture.md")));
});

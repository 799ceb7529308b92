/**
 * The catalogue of errors off the wire: every code is documented in docs/errors.md with its area
 * and the class that raises it, the page lists no code that does not exist, every error class in
 * src/ joins the catalogue, and every exit code is documented.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ClassAd } from "../../src/classad/index.js";
import { ConfigError } from "../../src/common/config.js";
import { ERROR_CODES, hasErrorCode, UpdraftError } from "../../src/common/errors.js";
import { EXIT } from "../../src/common/exit-codes.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const page = readFileSync(join(root, "docs", "errors.md"), "utf8");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

/** Rows of the error table: code, area, class. */
function documentedRows(): { code: string; area: string; cls: string }[] {
  return [
    ...page.matchAll(/^\|\s*`([a-z-]+)`\s*\|\s*([a-z]+)\s*\|\s*`(\w+)`\s*\|\s*\S.*\|$/gm),
  ].map((m) => ({ code: m[1]!, area: m[2]!, cls: m[3]! }));
}

test("every catalogued code is documented with its area, and no other code is", () => {
  const rows = documentedRows();
  for (const [code, area] of Object.entries(ERROR_CODES)) {
    const row = rows.find((r) => r.code === code);
    assert.ok(row, `docs/errors.md has no row for ${code}`);
    assert.equal(row.area, area, `area of ${code}`);
  }
  assert.deepEqual(rows.map((r) => r.code).sort(), Object.keys(ERROR_CODES).sort());
});

test("every error class in src/ joins the catalogue and is named on the page", () => {
  const sources = sourceFiles(join(root, "src"));
  const bare: string[] = [];
  const catalogued = new Map<string, string>();
  for (const file of sources) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/class (\w+) extends (\w+)/g)) {
      if (m[2] === "Error") bare.push(`${file.slice(root.length)}: ${m[1]}`);
      if (m[2] === "UpdraftError") catalogued.set(m[1]!, file.slice(root.length));
    }
  }
  // The two roots: the wire's catalogue and this one.
  assert.deepEqual(bare.sort(), [
    "src/common/errors.ts: UpdraftError",
    "src/wire/errors.ts: WireError",
  ]);
  const named = new Set(documentedRows().map((r) => r.cls));
  for (const [cls, file] of catalogued) {
    assert.ok(named.has(cls), `${cls} (${file}) raises no documented code`);
  }
  assert.ok(catalogued.size >= 20, `found only ${catalogued.size} catalogued classes`);
});

test("errors carry their code and area, and hasErrorCode tells them apart", () => {
  const config = new ConfigError("f.yaml", [{ path: "x", message: "bad" }]);
  assert.equal(config.code, "config-invalid");
  assert.equal(config.area, "configuration");
  assert.ok(hasErrorCode(config, "config-invalid"));
  assert.ok(!hasErrorCode(config, "classad-syntax"));
  let parse: unknown;
  try {
    ClassAd.parse("[ a = ");
  } catch (err) {
    parse = err;
  }
  assert.ok(parse instanceof UpdraftError);
  assert.ok(hasErrorCode(parse, "classad-syntax", "config-invalid"));
  // A plain error with a look-alike name is not mistaken for one.
  const impostor = Object.assign(new Error("x"), { name: "ConfigError", code: "config-invalid" });
  assert.ok(!hasErrorCode(impostor, "config-invalid"));
});

test("every exit code is documented with its number and name", () => {
  for (const [name, code] of Object.entries(EXIT)) {
    assert.match(
      page,
      new RegExp(`^\\|\\s*${code}\\s*\\|\\s*\`${name}\`\\s*\\|\\s*\\S.*\\|$`, "m"),
      `exit ${code} (${name})`,
    );
  }
});

test("no folder recognises another folder's error by its class: codes cross the seams", () => {
  const files = sourceFiles(join(root, "src"));
  const declaredIn = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bclass (\w+Error) extends\b|\bconst (\w+Error) = define/g)) {
      declaredIn.set(m[1] ?? m[2], dirname(file));
    }
  }
  assert.ok(
    declaredIn.has("WireError") && declaredIn.has("NotFoundError"),
    "the scan sees the wire",
  );
  const crossings: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\binstanceof (\w+Error)\b/g)) {
      const home = declaredIn.get(m[1]); // undefined: a built-in or a library's class
      if (home !== undefined && home !== dirname(file)) {
        crossings.push(
          `${relative(root, file)}: instanceof ${m[1]} (from ${relative(root, home)})`,
        );
      }
    }
  }
  assert.deepEqual(crossings, [], "use hasErrorCode / hasWireCode / isWireError instead");
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  closeCodeFor,
  codeForClose,
  errorFromWire,
  hasWireCode,
  isWireError,
  NotFoundError,
  WIRE_ERROR_CODES,
  WireError,
} from "../../src/wire/errors.js";
import { schemaPath } from "../../src/wire/schema.js";

const readme = readFileSync(join(schemaPath(), "..", "README.md"), "utf8");

test("every error code is documented with its close code", () => {
  for (const code of WIRE_ERROR_CODES) {
    const row = new RegExp(
      `^\\|\\s*\`${code}\`\\s*\\|\\s*${closeCodeFor(code)}\\s*\\|\\s*\\S.*\\|$`,
      "m",
    );
    assert.match(readme, row, `README row for ${code}`);
  }
});

test("the README documents no code that does not exist", () => {
  const documented = [...readme.matchAll(/^\|\s*`([a-z-]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), [...WIRE_ERROR_CODES].sort());
});

test("codes survive the wire as the same class", () => {
  for (const code of WIRE_ERROR_CODES) {
    const err = errorFromWire(code, "m", { k: "v" });
    assert.ok(err instanceof WireError);
    assert.equal(err.code, code);
    assert.equal(codeForClose(err.closeCode), code);
  }
  assert.ok(errorFromWire("not-found", "x") instanceof NotFoundError);
});

test("an unknown remote code becomes internal and keeps the original", () => {
  const err = errorFromWire("from-the-future", "m");
  assert.equal(err.code, "internal");
  assert.equal(err.details.remoteCode, "from-the-future");
});

test("hasWireCode and isWireError tell wire failures apart by code", () => {
  const err = errorFromWire("already-exists", "m");
  assert.ok(hasWireCode(err, "already-exists"));
  assert.ok(hasWireCode(err, "not-found", "already-exists"));
  assert.ok(!hasWireCode(err, "not-found"));
  assert.ok(isWireError(err));
  // A plain error with a look-alike name and code is not taken for a wire failure.
  const impostor = Object.assign(new Error("x"), { name: "WireError", code: "already-exists" });
  assert.ok(!hasWireCode(impostor, "already-exists"));
  assert.ok(!isWireError(impostor));
  assert.ok(!isWireError(undefined));
});

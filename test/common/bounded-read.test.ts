import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readBounded, readHead } from "../../src/common/bounded-read.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-bounded-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a file's head is at most the bound; a shorter file comes whole", () => {
  const file = join(dir, "ten");
  writeFileSync(file, "0123456789");
  assert.equal(readHead(file, 4).toString(), "0123");
  assert.equal(readHead(file, 64).toString(), "0123456789");
  assert.equal(readBounded(file, 10)?.toString(), "0123456789");
  assert.equal(readBounded(file, 9), undefined);
});

test("an endless file costs no more than the bound", () => {
  assert.equal(readHead("/dev/zero", 1024).length, 1024);
  assert.equal(readBounded("/dev/zero", 64 * 1024), undefined);
});

test("a missing file is an error the caller sees", () => {
  assert.throws(() => readHead(join(dir, "absent"), 10), { code: "ENOENT" });
});

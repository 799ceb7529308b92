/**
 * The frontend's token errors carry catalogued codes: no CE token file fit for an entry's CE
 * (ce-token-unfit), and a renewal asked past a pilot's renew_until (renewal-ended). Their
 * messages are unchanged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { hasErrorCode } from "../../src/common/errors.js";
import { readCeTokenFiles } from "../../src/frontend/ce-tokens.js";
import { configuredTokenMinter } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-fe-token-errors-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const NOW = 1_800_000_000;

test("no token file fit for the CE is ce-token-unfit, with each file's reason", async () => {
  const file = join(dir, "ce.token");
  writeFileSync(file, "not-a-token\n", { mode: 0o600 });
  const { source, unreadable } = readCeTokenFiles([file], NOW * 1000);
  assert.deepEqual(unreadable, []);
  await assert.rejects(source.token("https://ce.example.org", NOW * 1000), (err) => {
    assert.ok(hasErrorCode(err, "ce-token-unfit"), String(err));
    assert.ok(err.message.startsWith(`no readable token file is fit for this CE (${file}: `));
    assert.ok(!err.message.includes("not-a-token"), "the token itself is never in the message");
    return true;
  });
});

test("a renewal past renew_until is renewal-ended", async () => {
  const minter = await configuredTokenMinter(dir, "https://fe.example.org/pilots");
  const binding = {
    frontend: "fe",
    group: "main",
    entry: "e1",
    pilotId: "p-1",
    renewUntil: NOW + 100,
  };
  assert.ok((await minter.renew(binding, NOW * 1000)).exp <= NOW + 100);
  await assert.rejects(minter.renew(binding, (NOW + 100) * 1000), (err) => {
    assert.ok(hasErrorCode(err, "renewal-ended"), String(err));
    assert.equal(err.message, "pilot p-1 may not be renewed any more");
    return true;
  });
});

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  FileTooLargeError,
  readBounded,
  readBoundedText,
  readHead,
} from "../../src/common/bounded-read.js";
import { createNodeView } from "../../src/pilot/validate/node-view.js";
import { loadClientCredentials } from "../../src/wire/client-tls.js";
import { runCli } from "../cli/run-cli.js";

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

test("readBoundedText refuses a file past the bound naming it and the bound", () => {
  const file = join(dir, "big");
  writeFileSync(file, "x".repeat(2049));
  assert.equal(readBoundedText(file, 4096), "x".repeat(2049));
  assert.throws(
    () => readBoundedText(file, 2048),
    (e) =>
      e instanceof FileTooLargeError && /big is larger than 2 KiB, the most read/.test(e.message),
  );
  assert.throws(() => readBoundedText("/dev/zero", 1 << 20), /larger than 1 MiB/);
});

test("the pilot's node view reads an endless file as unreadable instead of hanging", () => {
  const view = createNodeView();
  assert.equal(view.readFile("/dev/zero"), undefined);
  assert.match(view.readFile("/proc/self/status") ?? "", /^Name:/);
});

test("CLI file arguments are bounded: submit, classad and advertise refuse /dev/zero naming the bound", async () => {
  const env = { PATH: process.env.PATH, HOME: dir, UPDRAFT_CONFIG: join(dir, "none.yaml") };
  for (const args of [
    ["submit", "/dev/zero"],
    ["classad", "match", "/dev/zero", "/dev/null"],
    ["advertise", "/dev/zero"],
  ]) {
    const r = await runCli(args, env);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.stderr, /\/dev\/zero is larger than 64 MiB/, `${args.join(" ")}: ${r.stderr}`);
  }
});

test("a client's credential file is bounded: /dev/zero is refused naming the bound", () => {
  assert.throws(
    () => loadClientCredentials({ credentialFile: "/dev/zero", caDir: dir }),
    /\/dev\/zero is larger than 1 MiB/,
  );
});

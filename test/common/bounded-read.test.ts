import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  FileTooLargeError,
  readBounded,
  readBoundedText,
  readHead,
  sha256Bounded,
  sha256File,
} from "../../src/common/bounded-read.js";
import { hashMismatch } from "../../src/pilot/validate/check-job-hooks.js";
import { loadCaDir } from "../../src/security/ca-dir.js";
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

test("a hook's hash is streamed: a file of many chunks hashes as a whole read does, an endless one is refused", () => {
  const file = join(dir, "hook.sh");
  const body = Buffer.alloc(200_001, "a");
  writeFileSync(file, body);
  const whole = createHash("sha256").update(body).digest("hex");
  assert.equal(sha256Bounded(file, body.length), whole);
  assert.equal(sha256Bounded(file, body.length - 1), undefined);
  assert.equal(sha256File(file), whole, "unbounded, the whole file");
  writeFileSync(join(dir, "empty"), "");
  assert.equal(sha256File(join(dir, "empty")), createHash("sha256").digest("hex"));
  assert.equal(hashMismatch(file, whole), undefined);
  assert.match(
    hashMismatch(file, "0".repeat(64)) ?? "",
    /has SHA-256 [0-9a-f]{64}, expected 0{64}/,
  );
  // /dev/zero has size 0 to stat: only a bound on the bytes read stops it.
  assert.match(hashMismatch("/dev/zero", whole) ?? "", /\/dev\/zero is larger than \d+ bytes/);
  assert.match(hashMismatch(join(dir, "absent"), whole) ?? "", /cannot be read/);
});

test("a client's trust directory is bounded: an endless <hash>.0 is refused naming it", () => {
  const caDir = join(dir, "client-cas");
  mkdirSync(caDir);
  symlinkSync("/dev/zero", join(caDir, "0123abcd.0"));
  assert.throws(
    () => loadClientCredentials({ bearerToken: "t", caDir }),
    (e) =>
      e instanceof FileTooLargeError &&
      e.code === "file-too-large" &&
      /0123abcd\.0 is larger than 1 MiB/.test(e.message),
  );
});

test("the CA directory behind updraft ca is bounded: an endless ca-key.pem is refused naming it", () => {
  const caDir = join(dir, "ca");
  mkdirSync(caDir);
  writeFileSync(join(caDir, "ca.pem"), "not read past the key");
  symlinkSync("/dev/zero", join(caDir, "ca-key.pem"));
  assert.throws(() => loadCaDir(caDir), /ca-key\.pem is larger than 1 MiB/);
});

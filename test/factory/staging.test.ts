import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { sha256Hex } from "../../src/factory/staging/manifest.js";
import {
  stageDirectory,
  startStagingServer,
  type StagingServer,
} from "../../src/factory/staging/staging-area.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

let pki: TestPki;
let server: StagingServer;
let base: string;
const dir = mkdtempSync(join(tmpdir(), "updraft-staging-"));
const out = mkdtempSync(join(tmpdir(), "updraft-staging-out-"));

function curl(
  path: string,
  file: string,
  extra: string[] = [],
): Promise<{ code: number; status: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      [
        "-sS",
        "-o",
        file,
        "-w",
        "%{http_code}",
        "--cacert",
        pki.caCertFile,
        ...extra,
        `${base}/${path}`,
      ],
      (err, stdout) => resolve({ code: err ? 1 : 0, status: stdout }),
    );
  });
}

before(async () => {
  pki = createTestPki();
  writeFileSync(join(dir, "updraft-pilot-startup.sh"), "#!/bin/sh\necho bootstrap\n");
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "updraft.js"), "console.log('pilot');\n");
  const area = stageDirectory(dir, { entry: "bin/updraft.js" });
  server = await startStagingServer({
    dir,
    area,
    certPem: readFileSync(pki.host.certFile, "utf8"),
    keyPem: readFileSync(pki.host.keyFile, "utf8"),
    host: "127.0.0.1",
    port: 0,
  });
  base = server.url.replace("127.0.0.1", "localhost");
});
after(async () => {
  await server.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

test("the manifest lists every file with its hash, and its own hash checks it", async () => {
  const m = join(out, "manifest.txt");
  assert.equal((await curl("manifest.txt", m)).status, "200");
  const text = readFileSync(m, "utf8");
  assert.equal(text.split("\n")[0], "updraft-pilot-manifest 1");
  assert.match(text, /^entry bin\/updraft\.js$/m);
  const area = stageDirectory(dir, { entry: "bin/updraft.js" });
  assert.equal(sha256Hex(text), area.manifestSha256);
  for (const line of text.split("\n").filter((l) => l.startsWith("file "))) {
    const [, hash, path] = line.split(" ");
    const f = join(out, path!.replace(/\//g, "_"));
    assert.equal((await curl(path!, f)).status, "200");
    assert.equal(sha256Hex(readFileSync(f)), hash, `${path} does not match the manifest`);
  }
});

test("a file changed after staging is caught by its manifest hash", async () => {
  const m = join(out, "manifest2.txt");
  await curl("manifest.txt", m);
  const listed = readFileSync(m, "utf8").match(/^file (\S+) updraft-pilot-startup\.sh$/m)![1];
  writeFileSync(join(dir, "updraft-pilot-startup.sh"), "#!/bin/sh\necho evil\n");
  const f = join(out, "tampered.sh");
  await curl("updraft-pilot-startup.sh", f);
  assert.notEqual(sha256Hex(readFileSync(f)), listed);
});

test("no directory listing, nothing outside the manifest, read-only", async () => {
  const f = join(out, "x");
  assert.equal((await curl("", f)).status, "404");
  assert.equal((await curl("bin/", f)).status, "404");
  assert.equal((await curl("bin", f)).status, "404");
  assert.equal((await curl("../etc/passwd", f, ["--path-as-is"])).status, "404");
  assert.equal((await curl("bin/updraft.js", f, ["-X", "PUT", "--data", "x"])).status, "405");
});

test("a client without the CA is refused by TLS", async () => {
  const r = await new Promise<number>((resolve) =>
    execFile("curl", ["-sS", "-o", "/dev/null", `${base}/manifest.txt`], (err) =>
      resolve(err ? 1 : 0),
    ),
  );
  assert.equal(r, 1);
});

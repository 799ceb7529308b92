/**
 * The pilot's Updraft install: which files of this build it holds, the archive
 * `updraft factory stage` writes (unpacked here by the system's tar), and the manifest line that
 * tells the bootstrap to unpack it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  INSTALL_ARCHIVE,
  pilotInstallFiles,
  specifiersOf,
  writeInstallArchive,
} from "../../src/factory/staging/install.js";
import { stageDirectory } from "../../src/factory/staging/staging-area.js";
import { splitPath, tarChunks } from "../../src/factory/staging/ustar.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "updraft-staging-install-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("the install holds the pilot command's module graph and what it reads, nothing else", () => {
  const paths = new Set(pilotInstallFiles(repo).map((f) => f.path));
  for (const p of [
    "bin/updraft.js",
    "package.json",
    "src/wire/updraft.proto",
    "dist/src/cli/main.js",
    "dist/src/cli/pilot-command.js",
    // Loaded dynamically once the pilot connects.
    "dist/src/pilot/connect.js",
    "dist/src/collector/client.js",
    "dist/src/schedd/client.js",
    "node_modules/ws/package.json",
    "node_modules/protobufjs/package.json",
    "node_modules/commander/package.json",
  ]) {
    assert.ok(paths.has(p), `${p} is in the install`);
  }
  const unwanted = [...paths].filter(
    (p) =>
      p.startsWith("node_modules/better-sqlite3/") ||
      p.startsWith("node_modules/typescript/") ||
      p === "dist/src/schedd/store.js" ||
      p === "dist/src/cli/factory-command.js" ||
      p.startsWith("dist/test/") ||
      /\.d\.ts$|\.map$/.test(p),
  );
  assert.deepEqual(unwanted, [], "no native SQLite, other daemons, dev packages or declarations");
});

test("the install ships no certificate maker: node-forge and what imports it stay out", () => {
  // A pilot reads certificates (node:crypto and der.ts) but never builds one. node-forge came
  // into the install through one constant the pilot's proxy renewal took from verify.ts, whose
  // trust store reads CRLs with forge; the archive grew from 1.0 to 1.5 MB.
  const paths = pilotInstallFiles(repo).map((f) => f.path);
  assert.ok(paths.includes("dist/src/pilot/proxy-renewal.js"), "the pilot's proxy renewal");
  const forgeFiles = paths.filter(
    (p) =>
      p.startsWith("node_modules/node-forge/") ||
      p === "dist/src/security/cert-builder.js" ||
      p === "dist/src/security/crl.js" ||
      p === "dist/src/security/trust.js" ||
      // forge.js loads node-forge lazily, which the tracer cannot see: it must not ship either.
      p === "dist/src/security/forge.js" ||
      p === "dist/src/security/dn-encode.js",
  );
  assert.deepEqual(forgeFiles, []);
});

test("import specifiers are found in static, re-export, side-effect and dynamic forms", () => {
  const src = [
    'import { a } from "./a.js";',
    'export * from "./b.js";',
    'import "../c.js";',
    'export { d } from "pkg/sub";',
    'const m = await import("./e.js");',
  ].join("\n");
  assert.deepEqual(specifiersOf(src, false), ["./a.js", "./b.js", "../c.js", "pkg/sub"]);
  assert.deepEqual(specifiersOf(src, true), ["./a.js", "./b.js", "../c.js", "pkg/sub", "./e.js"]);
});

test("the archive unpacks with tar to exactly the install's files, byte for byte", () => {
  const out = join(root, "stage");
  mkdirSync(out);
  const w = writeInstallArchive(repo, out);
  const files = pilotInstallFiles(repo);
  assert.equal(w.files, files.length);
  const listed = execFileSync("tar", ["tzf", w.file], { encoding: "utf8", maxBuffer: 1 << 26 })
    .split("\n")
    .filter((l) => l !== "" && !l.endsWith("/"));
  assert.deepEqual(
    listed,
    files.map((f) => f.path),
  );
  const x = join(root, "x");
  mkdirSync(x);
  execFileSync("tar", ["xzf", w.file, "-C", x]);
  for (const f of files) {
    assert.ok(readFileSync(join(x, f.path)).equals(readFileSync(f.abs)), `${f.path} unpacked`);
  }
  // The same build gives the same archive, so the same hash on pilots' command lines.
  const again = mkdtempSync(join(root, "again-"));
  assert.equal(writeInstallArchive(repo, again).sha256, w.sha256);
});

test("updraft factory stage --out DIR writes the archive and says what it wrote", () => {
  const out = join(root, "cli-out", "staging");
  const text = execFileSync(
    process.execPath,
    [join(repo, "bin/updraft.js"), "factory", "stage", "--out", out],
    {
      encoding: "utf8",
    },
  );
  const w = readFileSync(join(out, INSTALL_ARCHIVE));
  const sha = createHash("sha256").update(w).digest("hex");
  assert.match(
    text,
    new RegExp(`${INSTALL_ARCHIVE}: \\d+ files, ${w.length} bytes, sha256 ${sha}`),
  );
});

test("ustar: long paths split at a slash into prefix and name; paths too long are refused", () => {
  const dirs = [`${"d".repeat(60)}`, `${"d".repeat(60)}/${"e".repeat(60)}`];
  const long = `${dirs[1]}/${"f".repeat(90)}.js`;
  assert.deepEqual(splitPath(long), { prefix: dirs[1], name: `${"f".repeat(90)}.js` });
  assert.throws(() => splitPath(`${"d".repeat(200)}/x.js`), /too long for ustar/);
  const tarFile = join(root, "long.tar");
  writeFileSync(
    tarFile,
    Buffer.concat(
      tarChunks([
        { path: dirs[0]!, mode: 0o755 },
        { path: dirs[1]!, mode: 0o755 },
        { path: long, mode: 0o644, data: Buffer.from("long\n") },
      ]),
    ),
  );
  const x = mkdtempSync(join(root, "long-"));
  execFileSync("tar", ["xf", tarFile, "-C", x]);
  assert.equal(readFileSync(join(x, long), "utf8"), "long\n");
});

test("a staging folder with the archive gets an install line; with an entry it does not", () => {
  const dir = mkdtempSync(join(root, "area-"));
  writeFileSync(join(dir, INSTALL_ARCHIVE), "not really an archive");
  mkdirSync(join(dir, "validate"));
  writeFileSync(join(dir, "validate", "site.sh"), 'echo \'{"status":"OK"}\'\n');
  const a = stageDirectory(dir, { validate: [{ kind: "site", path: "validate/site.sh" }] });
  const lines = a.manifestText.split("\n");
  assert.ok(lines.includes(`install ${INSTALL_ARCHIVE} bin/updraft.js`), a.manifestText);
  assert.ok(lines.includes("validate site validate/site.sh"), a.manifestText);
  assert.equal(lines.filter((l) => l.startsWith("file ")).length, 2);
  const b = stageDirectory(dir, { entry: "validate/site.sh" });
  assert.ok(!b.manifestText.includes("install "), b.manifestText);
  assert.ok(b.manifestText.includes("entry validate/site.sh"));
});

/**
 * The bootstrap with a real staging area: this Updraft build (bin, dist/src, package.json and the
 * runtime dependencies) served over HTTPS with a manifest, downloaded, checked, and started as
 * `updraft pilot run` from the downloaded files only.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const SAFE = /^[A-Za-z0-9._/@+-]+$/;

function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") walk(p, keep, out);
    else if (e.isFile() && keep(e.name)) out.push(p);
  }
  return out;
}

/** Relative path to absolute file: what an install needs to run `updraft pilot`. */
function installFiles(): Map<string, string> {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  // The wire schema is read at run time from the package root (src/wire/schema.ts).
  const files = [
    join(repo, "bin/updraft.js"),
    join(repo, "package.json"),
    join(repo, "src/wire/updraft.proto"),
  ];
  walk(join(repo, "dist/src"), (n) => n.endsWith(".js"), files);
  for (const [dir, meta] of Object.entries(lock.packages)) {
    if (!dir || meta.dev) continue;
    try {
      statSync(join(repo, dir));
    } catch {
      continue; // optional dependency not installed here
    }
    walk(join(repo, dir), (n) => /\.(c|m)?js$|\.json$/.test(n), files);
  }
  const map = new Map<string, string>();
  for (const f of files) {
    const rel = relative(repo, f);
    if (SAFE.test(rel)) map.set(rel, f);
  }
  return map;
}

let pki: TestPki;
let server: Server;
let base: string;
let manifestSha: string;
let installFileCount = 0;
const root = mkdtempSync(join(tmpdir(), "updraft-staged-install-"));

before(async () => {
  pki = createTestPki();
  const files = installFiles();
  installFileCount = files.size;
  const lines = ["updraft-pilot-manifest 1"];
  for (const [rel, abs] of files) {
    lines.push(`file ${createHash("sha256").update(readFileSync(abs)).digest("hex")} ${rel}`);
  }
  lines.push("entry bin/updraft.js", "");
  const manifest = lines.join("\n");
  manifestSha = createHash("sha256").update(manifest).digest("hex");
  server = createServer(
    { key: readFileSync(pki.host.keyFile), cert: readFileSync(pki.host.certFile) },
    (req, res) => {
      const rel = decodeURIComponent((req.url ?? "/").slice(1));
      if (rel === "manifest.txt") return void res.writeHead(200).end(manifest);
      const abs = files.get(rel);
      if (!abs) return void res.writeHead(404).end();
      res.writeHead(200).end(readFileSync(abs));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => {
  server?.close();
  pki?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

test("a staged install is downloaded, checked and run as the pilot", async (t) => {
  const wb = mkdtempSync(join(root, "work-"));
  const t0 = performance.now();
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(
        "/bin/sh",
        [
          SCRIPT,
          "--staging",
          base,
          "--manifest-sha256",
          manifestSha,
          "--cacert",
          pki.caCertFile,
          "--work-base",
          wb,
          "--max-idle",
          "0",
          "--entry",
          "staged_entry",
        ],
        // No access to the repository's node_modules: HOME and cwd elsewhere, a plain PATH.
        {
          cwd: wb,
          env: { PATH: process.env.PATH ?? "", HOME: wb },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    },
  );
  const ms = performance.now() - t0;
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const p = parsePilotOutput(r.stdout);
  assert.equal(p.report?.entry, "staged_entry");
  assert.equal(p.report?.exit.reason, "idle");
  assert.equal(p.report?.validation.ok, true);
  assert.deepEqual(readdirSync(wb), [], "work directory removed");
  assert.ok(ms < 60_000, `took ${Math.round(ms)} ms`);
  t.diagnostic(`staged bootstrap of ${installFileCount} files to pilot exit: ${Math.round(ms)} ms`);
});

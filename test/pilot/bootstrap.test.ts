/**
 * The bootstrap script against a real HTTPS staging area on loopback (host certificate from the
 * test PKI, curl or wget trusting the test CA), under dash and bash.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePilotOutput } from "../../src/pilot/report.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(repo, "src/pilot/updraft-pilot-startup.sh");
const SHELLS = ["/bin/sh", "/usr/bin/dash", "/bin/bash"].filter((s) => existsSync(s));

// Stands in for the staged Updraft: prints what it was started with, as one JSON line.
const FAKE_ENTRY = `
const keys = Object.keys(process.env).filter((k) => /^(UPDRAFT_|GLIDEIN_|MIN_DISK)/.test(k));
const env = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
console.log("STAGED " + JSON.stringify({ argv: process.argv.slice(2), env, cwd: process.cwd() }));
`;

let pki: TestPki;
let server: Server;
let base: string;
const root = mkdtempSync(join(tmpdir(), "updraft-bootstrap-"));
const staging = join(root, "staging");

const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

function put(rel: string, text: string): string {
  mkdirSync(dirname(join(staging, rel)), { recursive: true });
  writeFileSync(join(staging, rel), text);
  return sha(text);
}

/** Writes a manifest for the given files and returns its hash. */
function manifest(name: string, lines: string[]): string {
  const text = ["updraft-pilot-manifest 1", "# test staging area", ...lines, ""].join("\n");
  return put(name, text);
}

before(async () => {
  pki = createTestPki();
  server = createServer(
    { key: readFileSync(pki.host.keyFile), cert: readFileSync(pki.host.certFile) },
    (req, res) => {
      const p = join(staging, decodeURIComponent((req.url ?? "/").split("?")[0]!));
      if (!p.startsWith(staging) || !existsSync(p)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(readFileSync(p));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const entry = put("bin/updraft.js", FAKE_ENTRY);
  const check = put("scripts/site-check.sh", 'echo \'{"status":"OK"}\'\n');
  manifest("good.txt", [
    `file ${entry} bin/updraft.js`,
    `file ${check} scripts/site-check.sh`,
    "entry bin/updraft.js",
    "validate site scripts/site-check.sh",
  ]);
});

after(() => {
  server?.close();
  pki?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bootstrap(shell: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(shell, [SCRIPT, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const workBase = () => mkdtempSync(join(root, "work-"));
const staged = (m: string, hash: string, wb: string) => [
  "--staging",
  base,
  "--manifest",
  m,
  "--manifest-sha256",
  hash,
  "--cacert",
  pki.caCertFile,
  "--work-base",
  wb,
];

function hashOf(name: string): string {
  return sha(readFileSync(join(staging, name)));
}

for (const shell of SHELLS) {
  test(`${shell}: a good manifest starts the staged pilot with every parameter`, async () => {
    const wb = workBase();
    const r = await bootstrap(
      shell,
      [
        ...staged("good.txt", hashOf("good.txt"), wb),
        "--collector",
        "wss://collector.example:9618",
        "--schedd",
        "wss://s1.example:9619",
        "--schedd",
        "wss://s2.example:9619",
        "--entry",
        "ucsd_ce1",
        "--factory",
        "f1",
        "--frontend",
        "fe1",
        "--max-walltime",
        "7200",
        "--max-idle",
        "300",
        "--attr",
        "GLIDEIN_CMSSite=T2_US_UCSD",
        "--attr",
        "NOTE=two words",
        "--start",
        'TARGET.Owner =!= "mallory"',
        "--script",
        "/site/extra.sh",
        "--pilot-id",
        "p77",
        "--keep-work-dir",
      ],
      { X509_USER_PROXY: "/grid/x509up_p77" },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const line = r.stdout.split("\n").find((l) => l.startsWith("STAGED "));
    assert.ok(line, r.stdout);
    const got = JSON.parse(line.slice(7)) as { argv: string[]; env: Record<string, string> };
    const wd = join(wb, "updraft-pilot.p77");
    // The credential travels as an argument: no variable names it in the pilot's environment.
    assert.deepEqual(got.argv, [
      ...["pilot", "run", "--work-dir", join(wd, "run")],
      ...["--hide-dir", wd, "--hide-dir", process.cwd()],
      ...["--credential", "/grid/x509up_p77", "--remove-credential-file"],
    ]);
    assert.equal(got.env.X509_USER_PROXY, undefined);
    assert.equal(got.env.UPDRAFT_PILOT_CREDENTIAL, undefined);
    assert.equal(got.env.UPDRAFT_COLLECTOR, "wss://collector.example:9618");
    assert.equal(got.env.UPDRAFT_SCHEDDS, "wss://s1.example:9619,wss://s2.example:9619");
    assert.equal(got.env.GLIDEIN_Entry_Name, "ucsd_ce1");
    assert.equal(got.env.GLIDEIN_Max_Walltime, "7200");
    assert.equal(got.env.UPDRAFT_PILOT_ATTRS, "GLIDEIN_CMSSite=T2_US_UCSD;NOTE=two words");
    assert.equal(got.env.GLIDEIN_Start, 'TARGET.Owner =!= "mallory"');
    assert.equal(got.env.UPDRAFT_PILOT_ID, "p77");
    assert.equal(
      got.env.UPDRAFT_VALIDATION_SCRIPTS,
      `${join(wd, "files/scripts/site-check.sh")},/site/extra.sh`,
    );
  });

  test(`${shell}: a tampered file stops the pilot with Corruption`, async () => {
    const good = put("t/bin/updraft.js", FAKE_ENTRY);
    const m = manifest("tampered-file.txt", [
      `file ${good} t/bin/updraft.js`,
      "entry t/bin/updraft.js",
    ]);
    put("t/bin/updraft.js", `${FAKE_ENTRY}\nrequire("child_process").execSync("evil");\n`);
    const wb = workBase();
    const r = await bootstrap(shell, staged("tampered-file.txt", m, wb));
    assert.equal(r.code, 16);
    assert.ok(!r.stdout.includes("STAGED"), "nothing from the staging area ran");
    const p = parsePilotOutput(r.stdout);
    assert.equal(p.report?.exit.failureClass, "Corruption");
    assert.match(
      p.report?.exit.message ?? "",
      /file t\/bin\/updraft\.js has SHA-256 [0-9a-f]{64}, expected/,
    );
    assert.equal(p.ending?.code, 16);
    assert.deepEqual(readdirSync(wb), [], "work directory removed");
  });

  test(`${shell}: a tampered manifest stops the pilot with Corruption`, async () => {
    const r = await bootstrap(shell, staged("good.txt", sha("something else"), workBase()));
    assert.equal(r.code, 16);
    const p = parsePilotOutput(r.stdout);
    assert.equal(p.report?.exit.failureClass, "Corruption");
    assert.match(p.report?.exit.message ?? "", /manifest good\.txt has SHA-256/);
    assert.match(r.stderr, /Corruption: manifest good\.txt/);
  });
}

test("a manifest with an escaping path is refused even when its hash matches", async () => {
  const m = manifest("escape.txt", [`file ${sha("x")} ../../etc/passwd`, "entry bin/updraft.js"]);
  const r = await bootstrap("/bin/sh", staged("escape.txt", m, workBase()));
  assert.equal(r.code, 16);
  assert.match(parsePilotOutput(r.stdout).report?.exit.message ?? "", /unsafe path/);
});

test("missing files and bad parameters are Network and Config failures", async () => {
  const m = manifest("missing.txt", [`file ${sha("x")} nothere.js`, "entry nothere.js"]);
  const r = await bootstrap("/bin/sh", staged("missing.txt", m, workBase()));
  assert.equal(parsePilotOutput(r.stdout).report?.exit.failureClass, "Network");
  const c = await bootstrap("/bin/sh", ["--frobnicate"]);
  assert.equal(c.code, 13);
  assert.equal(parsePilotOutput(c.stdout).report?.exit.failureClass, "Config");
});

test("an old Node.js is a WN_Resource failure", async () => {
  const bin = mkdtempSync(join(root, "oldnode-"));
  writeFileSync(join(bin, "node"), "#!/bin/sh\necho 18.19.0\n", { mode: 0o755 });
  const r = await bootstrap("/bin/sh", ["--installed"], { UPDRAFT_NODE: join(bin, "node") });
  assert.equal(r.code, 11);
  assert.match(parsePilotOutput(r.stdout).report?.exit.message ?? "", /older than 20/);
});

test("wget is used when curl is absent", async () => {
  const bin = mkdtempSync(join(root, "nocurl-"));
  const tools = ["sh", "date", "sed", "tr", "hostname", "mkdir", "rm", "sha256sum", "wget"];
  for (const t of tools) {
    const where = ["/usr/bin", "/bin"].map((d) => join(d, t)).find((p) => existsSync(p));
    if (!where) return; // the tool is missing here: nothing to compare against
    symlinkSync(where, join(bin, t));
  }
  symlinkSync(process.execPath, join(bin, "node"));
  const r = await bootstrap(
    "/bin/sh",
    [...staged("good.txt", hashOf("good.txt"), workBase()), "--pilot-id", "w1"],
    { PATH: bin },
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^STAGED /m);
});

test("installed mode runs the installed updraft pilot and cleans its work directory", async () => {
  const wb = workBase();
  const r = await bootstrap(SHELLS[SHELLS.length > 1 ? 1 : 0]!, [
    "--installed",
    "--updraft",
    join(repo, "bin/updraft.js"),
    "--work-base",
    wb,
    "--max-idle",
    "0",
    "--site",
    "LOCAL",
    "--entry",
    "local_entry",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const p = parsePilotOutput(r.stdout);
  assert.equal(p.truncated, false);
  assert.equal(p.report?.exit.reason, "idle");
  assert.equal(p.report?.entry, "local_entry");
  assert.equal(p.report?.validation.ok, true);
  assert.deepEqual(readdirSync(wb), []);
});

test("SIGTERM to the bootstrap reaches the pilot, which ends as terminated", async () => {
  const wb = workBase();
  const child = spawn(
    "/bin/sh",
    [SCRIPT, "--installed", "--updraft", join(repo, "bin/updraft.js"), "--work-base", wb],
    { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  const started = new Promise<void>((resolve) =>
    child.stdout.on("data", (d) => {
      stdout += d;
      if (stdout.includes("=== Pilot starting")) resolve();
    }),
  );
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  await started;
  // Give validation time to finish so the loop is running when the signal arrives.
  await new Promise((r) => setTimeout(r, 500));
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  const p = parsePilotOutput(stdout);
  assert.equal(p.report?.exit.reason, "terminated");
  assert.deepEqual(readdirSync(wb), []);
});

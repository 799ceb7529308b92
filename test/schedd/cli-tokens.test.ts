/**
 * The user commands with bearer tokens, spawned as `bin/updraft.js` against a real schedd that
 * trusts a private issuer: `--token FILE`, `BEARER_TOKEN`, `BEARER_TOKEN_FILE` and the discovery
 * file `$XDG_RUNTIME_DIR/bt_u<uid>`; an expired token is reported before connecting and a refused
 * one with the check the schedd's challenge names and what to do next.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { startEnv, type TestEnv } from "./harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
const run = promisify(execFile);
const ISS = "https://tokens.pool.example.org";
const AUD = "https://schedd.pool.example.org";
const ALL = "compute.read compute.create compute.modify compute.cancel";

let env: TestEnv;
let work: string;
let issuerDir: string;
before(async () => {
  issuerDir = mkdtempSync(join(tmpdir(), "updraft-issuer-"));
  const init = await initIssuerDir(issuerDir, ISS);
  assert.ok(init.ok);
  env = await startEnv({
    extra: {
      public_url: AUD,
      tokens: { issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }] },
      authorization: { rules: [{ issuer: ISS, group: "/vo", roles: ["user"] }], default_roles: [] },
    },
  });
  work = join(env.dir, "submit");
  mkdirSync(work);
  writeFileSync(join(work, "run.sh"), "#!/bin/sh\necho hello\n");
  writeFileSync(join(work, "one.sub"), "executable = run.sh\nqueue\n");
});
after(async () => {
  await env.close();
  rmSync(issuerDir, { recursive: true, force: true });
});

const token = (o: { scope?: string; aud?: string; lifetimeS?: number; now?: number } = {}) =>
  issueToken(issuerDir, {
    sub: "dave",
    audiences: [o.aud ?? AUD],
    scope: o.scope ?? ALL,
    groups: ["/vo"],
    lifetimeS: o.lifetimeS ?? 600,
    ...(o.now !== undefined ? { now: o.now } : {}),
  });

type Result = { code: number; stdout: string; stderr: string };

async function updraft(args: string[], creds: Record<string, string>): Promise<Result> {
  try {
    const r = await run(process.execPath, [bin, ...args], {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: env.dir,
        UPDRAFT_CONFIG: join(env.dir, "no-such-client.yaml"),
        UPDRAFT_SCHEDD: env.schedd.url(),
        X509_CERT_DIR: env.pki.caDir,
        XDG_RUNTIME_DIR: join(env.dir, "no-runtime-dir"),
        ...creds,
      },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("submit with --token, q with BEARER_TOKEN_FILE, rm with BEARER_TOKEN, q by discovery", async () => {
  const file = join(env.dir, "tok");
  writeFileSync(file, `${await token()}\n`, { mode: 0o600 });
  const sub = await updraft(["submit", "--token", file, "one.sub"], {});
  assert.equal(sub.code, 0, sub.stderr);
  const c = /cluster (\d+)/.exec(sub.stdout)![1]!;

  const q = await updraft(["q", c, "-af", "Owner", "JobStatus"], { BEARER_TOKEN_FILE: file });
  assert.equal(q.stdout, "dave 1\n", q.stderr);

  // BEARER_TOKEN comes before the X.509 variables: the proxy here would be alice.
  const rm = await updraft(["rm", `${c}.0`], {
    BEARER_TOKEN: await token(),
    X509_USER_PROXY: env.pki.proxy.file,
  });
  assert.equal(rm.stdout, `Job ${c}.0 marked for removal\n`, rm.stderr);

  const runtime = join(env.dir, "runtime");
  mkdirSync(runtime, { mode: 0o700 });
  writeFileSync(join(runtime, `bt_u${process.getuid!()}`), await token(), { mode: 0o600 });
  const hist = await updraft(["history", "-af", "ClusterId", "Owner"], {
    XDG_RUNTIME_DIR: runtime,
  });
  assert.equal(hist.stdout, `${c} dave\n`, hist.stderr);
});

test("an expired token is named before connecting; a refused one names the failed check", async () => {
  const expired = await updraft(["q"], { BEARER_TOKEN: await token({ lifetimeS: -60 }) });
  assert.equal(expired.code, 1);
  assert.match(expired.stderr, /the bearer token in \$BEARER_TOKEN expired at 20\d\d-/);

  const early = await updraft(["q"], {
    BEARER_TOKEN: await token({ now: Date.now() + 3_600_000 }),
  });
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    /the bearer token in \$BEARER_TOKEN is not yet valid: it starts at 20/,
  );

  const file = join(env.dir, "elsewhere");
  writeFileSync(file, await token({ aud: "https://other.example.org" }));
  const refused = await updraft(["q", "--token", file], {});
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /the schedd at wss:\S+ refused the bearer token in \S+elsewhere \(--token\): the bearer token was not accepted \(check: audience\): its audience does not name this service; get one whose aud names/,
  );
  assert.match(refused.stderr, /updraft token info \S+elsewhere shows its claims/);

  const scoped = await updraft(["submit", "one.sub"], {
    BEARER_TOKEN: await token({ scope: "compute.read" }),
  });
  assert.equal(scoped.code, 1);
  assert.match(scoped.stderr, /needs the compute\.create scope/);

  const garbage = await updraft(["q"], { BEARER_TOKEN: "not-a-token" });
  assert.match(garbage.stderr, /the bearer token in \$BEARER_TOKEN is not a token/);
  assert.ok(!garbage.stderr.includes("not-a-token"));
});

test("every schedd command sends --token and names the schedd's refusal of it", async () => {
  const file = join(env.dir, "other-audience");
  writeFileSync(file, await token({ aud: "https://other.example.org" }), { mode: 0o600 });
  const commands = [
    ["submit", "one.sub"],
    ["q"],
    ["history"],
    ["rm", "1"],
    ["hold", "1"],
    ["release", "1"],
    ["qedit", "1", "Foo", "2"],
    ["wait", "1"],
    ["refresh-proxy", "1"],
    ["transfer-output", "1"],
  ];
  const results = await Promise.all(
    commands.map((args) => updraft([args[0]!, "--token", file, ...args.slice(1)], {})),
  );
  results.forEach((r, i) => {
    const name = commands[i]!.join(" ");
    assert.notEqual(r.code, 0, name);
    assert.match(
      r.stderr,
      /refused the bearer token in \S+other-audience \(--token\): the bearer token was not accepted \(check: audience\)/,
      `${name}: ${r.stderr}`,
    );
  });
});

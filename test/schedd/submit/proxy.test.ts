/**
 * `x509userproxy` and `use_x509userproxy` at compile time, as condor_submit: the full path in the
 * ad (relative names against initialdir), `use_x509userproxy` taking $X509_USER_PROXY or
 * /tmp/x509up_u<uid>, and a proxy that has expired or has under 120 s left stopping the submit
 * with a line saying so. Proxies are real RFC 3820 proxies from the test CA.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createProxy } from "../../../src/security/proxy.js";
import { createTestPki, type TestPki } from "../../helpers/pki.js";
import { CWD, DEFAULT_FILES, errorsOf, jobOf } from "./helpers.js";

const NOW = 1_700_000_000;
let pki: TestPki;
let fresh: string;
let expired: string;
let dying: string;

before(() => {
  pki = createTestPki();
  const issue = (hours: number, at: number) =>
    createProxy({
      certChainPem: pki.user.certPem,
      keyPem: pki.user.keyPem,
      hours,
      now: new Date(at * 1000),
    });
  fresh = issue(12, NOW);
  // One hour from NOW - 2 h ended an hour ago.
  expired = issue(1, NOW - 2 * 3600);
  // Made 59 minutes ago for an hour: 60 s left at NOW.
  dying = issue(1, NOW - 3600 + 60);
});
after(() => pki.cleanup());

const EXE = "executable = run.sh\n";
const files = (extra: Record<string, string>) => ({ ...DEFAULT_FILES, ...extra });
const at = { now: NOW };

test("x509userproxy: the full path in the ad, resolved against initialdir", () => {
  const job = jobOf(
    `${EXE}initialdir = sub\nx509userproxy = x509up_u1000\nqueue\n`,
    files({ [`${CWD}/sub/x509up_u1000`]: fresh }),
    at,
  );
  assert.equal(job.get("x509userproxy"), `"${CWD}/sub/x509up_u1000"`);
  // The subject and expiry are the schedd's to write from the file it receives.
  assert.equal(job.get("x509userproxysubject"), undefined);
  assert.equal(job.get("x509UserProxyExpiration"), undefined);
});

test("use_x509userproxy takes $X509_USER_PROXY, else /tmp/x509up_u<uid>", () => {
  const withEnv = jobOf(
    `${EXE}use_x509userproxy = true\nqueue\n`,
    files({ "/home/alice/proxy.pem": fresh }),
    { ...at, environ: { X509_USER_PROXY: "/home/alice/proxy.pem" }, uid: 1000 },
  );
  assert.equal(withEnv.get("x509userproxy"), '"/home/alice/proxy.pem"');
  const byUid = jobOf(
    `${EXE}use_x509userproxy = True\nqueue\n`,
    files({ "/tmp/x509up_u1234": fresh }),
    { ...at, environ: {}, uid: 1234 },
  );
  assert.equal(byUid.get("x509userproxy"), '"/tmp/x509up_u1234"');
  // x509userproxy wins over use_x509userproxy, and use_x509userproxy = false sends nothing.
  const named = jobOf(
    `${EXE}use_x509userproxy = true\nx509userproxy = /home/alice/p\nqueue\n`,
    files({ "/home/alice/p": fresh, "/tmp/x509up_u1234": fresh }),
    { ...at, uid: 1234 },
  );
  assert.equal(named.get("x509userproxy"), '"/home/alice/p"');
  const off = jobOf(`${EXE}use_x509userproxy = false\nqueue\n`, undefined, { ...at, uid: 1 });
  assert.equal(off.get("x509userproxy"), undefined);
});

test("an expired proxy is refused at submit, naming the file, the time and what to do", () => {
  const [err, ...rest] = errorsOf(
    `${EXE}x509userproxy = /tmp/x509up_u1000\nqueue\n`,
    files({ "/tmp/x509up_u1000": expired }),
    at,
  );
  assert.equal(rest.length, 0);
  assert.equal(err!.line, 2);
  assert.match(err!.message, /^proxy \/tmp\/x509up_u1000 has expired \(at \d{4}-\d\d-\d\dT/);
  assert.match(err!.message, /updraft proxy init/);
});

test("a proxy with under 120 seconds left is refused as too short, as condor_submit does", () => {
  const [err] = errorsOf(`${EXE}x509userproxy = /tmp/p\nqueue\n`, files({ "/tmp/p": dying }), at);
  assert.match(err!.message, /^proxy \/tmp\/p lifetime too short/);
  // The same file a minute earlier has 120 s left and passes.
  jobOf(`${EXE}x509userproxy = /tmp/p\nqueue\n`, files({ "/tmp/p": dying }), { now: NOW - 60 });
});

test("a missing proxy, a file without a certificate, a bad use_x509userproxy: one line each", () => {
  const missing = errorsOf(`${EXE}x509userproxy = /tmp/none\nqueue\n`, undefined, at);
  assert.match(missing[0]!.message, /^proxy \/tmp\/none cannot be read/);
  const junk = errorsOf(
    `${EXE}x509userproxy = /tmp/junk\nqueue\n`,
    files({ "/tmp/junk": "not a proxy\n" }),
    at,
  );
  assert.match(junk[0]!.message, /^proxy \/tmp\/junk holds no PEM certificate/);
  const bad = errorsOf(`${EXE}use_x509userproxy = maybe\nqueue\n`, undefined, { ...at, uid: 1 });
  assert.match(bad[0]!.message, /use_x509userproxy must be true or false, not 'maybe'/);
  const noUid = errorsOf(`${EXE}use_x509userproxy = true\nqueue\n`, undefined, {
    ...at,
    environ: {},
  });
  assert.match(noUid[0]!.message, /set X509_USER_PROXY or give x509userproxy = FILE/);
});

function jwt(exp: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "ES256", typ: "JWT" })}.${part({ sub: "alice", exp })}.c2ln\n`;
}

test("scitokens_file / use_scitokens send a bearer token as ScitokensFile; expired ones are refused", () => {
  const token = files({ [`${CWD}/job.token`]: jwt(NOW + 600), "/tmp/bt_u1000": jwt(NOW + 600) });
  const named = jobOf(`${EXE}scitokens_file = job.token\nqueue\n`, token, at);
  assert.equal(named.get("ScitokensFile"), `"${CWD}/job.token"`);
  const env = { ...at, environ: { BEARER_TOKEN_FILE: "/tmp/bt_u1000" } };
  assert.equal(
    jobOf(`${EXE}use_scitokens = true\nqueue\n`, token, env).get("ScitokensFile"),
    '"/tmp/bt_u1000"',
  );
  // auto: only when there is a token; false: never, even with scitokens_file.
  assert.equal(
    jobOf(`${EXE}use_scitokens = auto\nqueue\n`, token, at).get("ScitokensFile"),
    undefined,
  );
  assert.equal(
    jobOf(`${EXE}use_scitokens = auto\nqueue\n`, token, env).get("ScitokensFile"),
    '"/tmp/bt_u1000"',
  );
  assert.equal(
    jobOf(`${EXE}use_scitokens = false\nscitokens_file = job.token\nqueue\n`, token, at).get(
      "ScitokensFile",
    ),
    undefined,
  );
  const expired = errorsOf(
    `${EXE}scitokens_file = old.token\nqueue\n`,
    files({ [`${CWD}/old.token`]: jwt(NOW - 1) }),
    at,
  );
  assert.match(
    expired[0]!.message,
    /^token \/home\/alice\/work\/old\.token has expired; get a new one/,
  );
  const none = errorsOf(`${EXE}use_scitokens = true\nqueue\n`, undefined, { ...at, environ: {} });
  assert.match(none[0]!.message, /give scitokens_file = FILE or set BEARER_TOKEN_FILE/);
  const junk = errorsOf(`${EXE}scitokens_file = x\nqueue\n`, files({ [`${CWD}/x`]: "hello" }), at);
  assert.match(junk[0]!.message, /not a JWT/);
});

/**
 * What a listener refuses at the upgrade beyond a broken chain: weak keys and SHA-1 signatures,
 * a CA whose CRL is broken, missing where the CA publishes one, or expired (unless the listener
 * says warn), TLS below 1.3 unless allowed; and a refused peer learns no more than "refused".
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { parseCertificate, pemCertificates } from "../../src/security/cert-info.js";
import { buildCrl } from "../../src/security/crl.js";
import type { WireObserver } from "../../src/wire/observer.js";
import type { RpcServerOptions } from "../../src/wire/server.js";
import { createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

let pki: TestPki;
const servers: TestServer[] = [];
const causes: string[] = [];
const observer: WireObserver = { callDone: () => undefined, refused: (c) => causes.push(c) };

before(() => {
  pki = createTestPki();
});
after(async () => {
  await Promise.all(servers.map((s) => s.server.close()));
  pki.cleanup();
});

async function server(o: Partial<RpcServerOptions> = {}): Promise<TestServer> {
  const ts = await startServer(pki, { observer, trustRecheckMs: 0, ...o });
  servers.push(ts);
  return ts;
}

type Outcome = { status: number; error?: string; reason?: string };

/** Upgrade with a certificate and key as given, OpenSSL's own strength checks lowered. */
function upgrade(ts: TestServer, certPem: string, keyPem: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(ts.url, {
      cert: certPem,
      key: keyPem,
      ca: readFileSync(pki.caCertFile, "latin1"),
      ciphers: "DEFAULT:@SECLEVEL=0",
    });
    ws.on("open", () => {
      resolve({ status: 101 });
      ws.close();
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve({
        status: res.statusCode ?? 0,
        error: String(res.headers["x-updraft-error"]),
        reason: String(res.headers["x-updraft-reason"]),
      });
      ws.terminate();
    });
    ws.on("error", reject);
  });
}

/** A user certificate made by openssl with the test CA: any key size and digest. */
function opensslUser(
  name: string,
  bits: number,
  digest: string,
): { certPem: string; keyPem: string } {
  const dir = join(pki.dir, `openssl-${name}`);
  execFileSync("mkdir", ["-p", dir]);
  const key = join(dir, "key.pem");
  const csr = join(dir, "req.csr");
  const cert = join(dir, "cert.pem");
  execFileSync("openssl", ["genrsa", "-out", key, String(bits)], { stdio: "ignore" });
  execFileSync(
    "openssl",
    ["req", "-new", "-key", key, "-subj", `/DC=org/DC=example/CN=${name}`, "-out", csr],
    { stdio: "ignore" },
  );
  execFileSync(
    "openssl",
    [
      "x509",
      "-req",
      "-in",
      csr,
      `-${digest}`,
      "-days",
      "2",
      "-CA",
      join(pki.caHome, "ca.pem"),
      "-CAkey",
      join(pki.caHome, "ca-key.pem"),
      "-set_serial",
      String(Date.now()),
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { certPem: readFileSync(cert, "latin1"), keyPem: readFileSync(key, "latin1") };
}

const crlFile = () =>
  join(
    pki.caDir,
    readdirSync(pki.caDir).find((n) => /\.r0$/.test(n))!,
  );
const caHash = () =>
  readdirSync(pki.caDir)
    .find((n) => /\.0$/.test(n))!
    .slice(0, 8);

test("a 1024-bit key and a SHA-1 signature are refused; the same made strong is accepted", async () => {
  const ts = await server();
  const weak = opensslUser("Weak Key", 1024, "sha256");
  const sha1 = opensslUser("SHA1 Signed", 2048, "sha1");
  const good = opensslUser("Strong", 2048, "sha256");
  assert.equal((await upgrade(ts, good.certPem, good.keyPem)).status, 101);
  const w = await upgrade(ts, weak.certPem, weak.keyPem);
  assert.equal(w.status, 401);
  assert.ok(causes.includes("weak-key"), causes.join());
  const s = await upgrade(ts, sha1.certPem, sha1.keyPem);
  assert.equal(s.status, 401);
  assert.ok(causes.includes("weak-signature"), causes.join());
});

test("an unauthenticated peer is told it was refused, not which check failed", async () => {
  const ts = await server();
  const other = createTestPki();
  try {
    const o = await upgrade(ts, other.user.certPem, other.user.keyPem);
    assert.equal(o.status, 401);
    assert.equal(o.error, "unauthenticated");
    assert.match(o.reason ?? "", /not accepted/);
    assert.doesNotMatch(o.reason ?? "", /CN=|issuer|unknown/i);
  } finally {
    other.cleanup();
  }
});

test("a CRL that does not parse makes its CA sign nothing", async () => {
  const ts = await server();
  const saved = readFileSync(crlFile());
  try {
    writeFileSync(crlFile(), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
    const o = await upgrade(ts, pki.user.certPem, pki.user.keyPem);
    assert.equal(o.status, 401);
    assert.ok(causes.includes("crl-invalid"), causes.join());
  } finally {
    writeFileSync(crlFile(), saved);
  }
  assert.equal((await upgrade(ts, pki.user.certPem, pki.user.keyPem)).status, 101);
});

test("a CRL in its CA's name but not signed by its CA's key makes its CA sign nothing", async () => {
  const crl = crlFile();
  const saved = readFileSync(crl);
  const ca = parseCertificate(pemCertificates(readFileSync(pki.caCertFile, "latin1"))[0]!);
  // Whoever can write the trust directory, without the CA's key: an empty list, to unrevoke.
  const forged = buildCrl(
    {
      issuerDer: ca.subjectDer,
      issuerSpkiDer: ca.x509.publicKey.export({ type: "spki", format: "der" }),
      revoked: [],
      crlNumber: 100,
      thisUpdate: new Date(Date.now() - 60_000),
      nextUpdate: new Date(Date.now() + 86_400_000),
    },
    generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
  );
  writeFileSync(
    crl,
    `-----BEGIN X509 CRL-----\n${forged.toString("base64")}\n-----END X509 CRL-----\n`,
  );
  try {
    const ts = await server();
    const before = causes.filter((c) => c === "crl-invalid").length;
    assert.equal((await upgrade(ts, pki.user.certPem, pki.user.keyPem)).status, 401);
    assert.equal(causes.filter((c) => c === "crl-invalid").length, before + 1, causes.join());
  } finally {
    writeFileSync(crl, saved);
  }
});

test("a CA that publishes a CRL (crl_url) but has none installed signs nothing", async () => {
  const crl = crlFile();
  const saved = readFileSync(crl);
  const urlFile = join(pki.caDir, `${caHash()}.crl_url`);
  writeFileSync(urlFile, "https://ca.example.org/crl.pem\n");
  rmSync(crl);
  try {
    const ts = await server();
    const before = causes.filter((c) => c === "crl-invalid").length;
    assert.equal((await upgrade(ts, pki.user.certPem, pki.user.keyPem)).status, 401);
    assert.equal(causes.filter((c) => c === "crl-invalid").length, before + 1);
  } finally {
    writeFileSync(crl, saved);
    rmSync(urlFile);
  }
});

test("an expired CRL refuses its CA's users unless the listener says warn", async () => {
  const crl = crlFile();
  const saved = readFileSync(crl);
  const ca = parseCertificate(pemCertificates(readFileSync(pki.caCertFile, "latin1"))[0]!);
  const expired = buildCrl(
    {
      issuerDer: ca.subjectDer,
      issuerSpkiDer: ca.x509.publicKey.export({ type: "spki", format: "der" }),
      revoked: [],
      crlNumber: 99,
      thisUpdate: new Date(Date.now() - 10 * 86_400_000),
      nextUpdate: new Date(Date.now() - 86_400_000),
    },
    createPrivateKey(readFileSync(join(pki.caHome, "ca-key.pem"))),
  );
  writeFileSync(
    crl,
    `-----BEGIN X509 CRL-----\n${expired.toString("base64")}\n-----END X509 CRL-----\n`,
  );
  try {
    const refusing = await server();
    assert.equal((await upgrade(refusing, pki.user.certPem, pki.user.keyPem)).status, 401);
    assert.ok(causes.includes("crl-expired"), causes.join());
    const warning = await server({ crlExpired: "warn" });
    assert.equal((await upgrade(warning, pki.user.certPem, pki.user.keyPem)).status, 101);
  } finally {
    writeFileSync(crl, saved);
  }
});

test("TLS 1.2 is refused by default and accepted where configured", async () => {
  const strict = await server();
  const lenient = await server({ minTlsVersion: "TLSv1.2" });
  const handshake = (ts: TestServer) =>
    new Promise<string>((resolve) => {
      const s = tlsConnect({
        port: ts.server.address().port,
        host: "127.0.0.1",
        servername: "localhost",
        ca: readFileSync(pki.caCertFile, "latin1"),
        maxVersion: "TLSv1.2",
      });
      s.on("secureConnect", () => {
        resolve(s.getProtocol() ?? "?");
        s.destroy();
      });
      s.on("error", (e: Error & { code?: string }) => resolve(e.code ?? e.message));
    });
  assert.match(await handshake(strict), /ERR_SSL|alert|VERSION/i);
  assert.equal(await handshake(lenient), "TLSv1.2");
});

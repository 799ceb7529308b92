/**
 * The development PKI a one-machine pool runs on: a CA with a grid trust directory, one host
 * certificate per daemon (each its own identity, so authorization can tell them apart), users
 * alice and bob with RFC 3820 proxies, the pilots' credential, a monitoring credential, and the
 * factory's RSA key pair.
 * Made once under `<state>/pki` and reused; proxies and the CA's CRL are renewed when they have
 * less than a day left, so a pool restarted the next week or month still works.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initCaDir, loadCaDir, refreshCrlInCaDir, writePrivateFile } from "../security/ca-dir.js";
import { parseCertificate, pemCertificates } from "../security/cert-info.js";
import { issueHostCert, issueUserCert, type KeyAndCert } from "../security/pki.js";
import { createProxy } from "../security/proxy.js";

export const DEV_CA_SUBJECT = "/DC=org/DC=example/CN=Updraft Demo CA";
export const SERVICE_DN = (name: string) => `/DC=org/DC=example/OU=Services/CN=${name}`;
export const USER_DN = (name: string) => `/DC=org/DC=example/OU=Users/CN=${name}`;
export const PILOT_DN = "/DC=org/DC=example/OU=Pilots/CN=demo-pilot";
/** The demo's monitoring identity: every demo endpoint gives it the `monitor` role. */
export const MONITOR_DN = "/DC=org/DC=example/OU=Services/CN=monitor";

export const DAEMONS = ["collector", "schedd", "factory", "frontend"] as const;
export const USERS = ["alice", "bob"] as const;
const PROXY_HOURS = 7 * 24;
const RENEW_BELOW_MS = 24 * 3600 * 1000;

export interface DevPki {
  dir: string;
  trustDir: string;
  /** `<dir>/<daemon>/cert.pem` and `key.pem`. */
  daemon(name: (typeof DAEMONS)[number]): { certFile: string; keyFile: string };
  /** A user's proxy (what X509_USER_PROXY points at). */
  userProxy(name: (typeof USERS)[number]): string;
  pilotProxy: string;
  /** `<dir>/monitor/cert.pem` and `key.pem`: a client certificate for /metrics and /pool. */
  monitor: { certFile: string; keyFile: string };
}

function writeCredential(dir: string, kc: KeyAndCert): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "cert.pem"), kc.certPem);
  writePrivateFile(join(dir, "key.pem"), kc.keyPem);
}

function readCredential(dir: string): KeyAndCert {
  return {
    certPem: readFileSync(join(dir, "cert.pem"), "utf8"),
    keyPem: readFileSync(join(dir, "key.pem"), "utf8"),
  };
}

/** Whether a proxy file exists and stays valid for at least another day. */
function proxyFresh(file: string, now: number): boolean {
  if (!existsSync(file)) return false;
  const der = pemCertificates(readFileSync(file, "utf8"))[0];
  if (!der) return false;
  return parseCertificate(der).notAfter.getTime() - now > RENEW_BELOW_MS;
}

function ensureProxy(ca: KeyAndCert, dir: string, subject: string, now: number): string {
  const file = join(dir, "proxy.pem");
  if (!existsSync(join(dir, "cert.pem"))) {
    writeCredential(dir, issueUserCert(ca, { subject, days: 365 }));
  }
  if (!proxyFresh(file, now)) {
    const user = readCredential(dir);
    writePrivateFile(
      file,
      createProxy({ certChainPem: user.certPem, keyPem: user.keyPem, hours: PROXY_HOURS }),
    );
  }
  return file;
}

/** Create what is missing under `dir`, renew what is about to expire, and say where it is. */
export function ensureDevPki(
  dir: string,
  now = Date.now(),
  extra: { services?: readonly string[]; pilots?: readonly string[] } = {},
): DevPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, "ca-key.pem"))) {
    initCaDir(dir, { subject: DEV_CA_SUBJECT, days: 3650, bits: 2048 });
  }
  // The CRL lasts CRL_DAYS: re-sign it when it is about to expire, or a pool restarted a month
  // later would refuse every certificate of its own CA (an expired CRL fails closed).
  refreshCrlInCaDir(dir, RENEW_BELOW_MS, now);
  const { ca, paths } = loadCaDir(dir);
  for (const d of [...DAEMONS, ...(extra.services ?? [])]) {
    if (existsSync(join(dir, d, "key.pem"))) continue;
    writeCredential(
      join(dir, d),
      issueHostCert(ca, { host: "localhost", subject: SERVICE_DN(d), days: 365 }),
    );
  }
  const rsaKey = join(dir, "factory", "rsa-key.pem");
  if (!existsSync(rsaKey)) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(
      join(dir, "factory", "rsa-pub.pem"),
      publicKey.export({ type: "spki", format: "pem" }),
    );
    writePrivateFile(rsaKey, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  }
  const proxies = new Map<string, string>();
  for (const u of USERS) proxies.set(u, ensureProxy(ca, join(dir, "users", u), USER_DN(u), now));
  const pilotProxy = ensureProxy(ca, join(dir, "pilot"), PILOT_DN, now);
  // Further VOs' pilots: pki/<name>/proxy.pem, subject /DC=org/DC=example/OU=Pilots/CN=<name>.
  for (const p of extra.pilots ?? []) {
    ensureProxy(ca, join(dir, p), `/DC=org/DC=example/OU=Pilots/CN=${p}`, now);
  }
  const monitorDir = join(dir, "monitor");
  if (!existsSync(join(monitorDir, "key.pem"))) {
    writeCredential(monitorDir, issueUserCert(ca, { subject: MONITOR_DN, days: 365 }));
  }
  return {
    dir,
    trustDir: paths.trustDir,
    daemon: (name) => ({
      certFile: join(dir, name, "cert.pem"),
      keyFile: join(dir, name, "key.pem"),
    }),
    userProxy: (name) => proxies.get(name)!,
    pilotProxy,
    monitor: { certFile: join(monitorDir, "cert.pem"), keyFile: join(monitorDir, "key.pem") },
  };
}

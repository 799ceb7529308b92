/**
 * TLS material for a client: its certificate chain and key (a certificate, or a proxy file
 * holding the proxy, its key and the chain that issued it) and the CAs it trusts for servers.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readCredentialFile } from "../security/proxy.js";

export type ClientCredentialOptions = {
  /** A proxy file or a PEM file with certificate(s) and key. */
  credentialFile?: string;
  certPem?: string;
  keyPem?: string;
  /** IGTF trust directory (`<hash>.N` CA files) for the server's host certificate. */
  caDir: string;
};

export type ClientTls = { cert: string; key: string; ca: string[] };

const CA_FILE = /^[0-9a-f]{8}\.\d+$/;

export function loadClientTls(opts: ClientCredentialOptions): ClientTls {
  let certPem = opts.certPem;
  let keyPem = opts.keyPem;
  if (opts.credentialFile !== undefined) {
    const cred = readCredentialFile(readFileSync(opts.credentialFile, "latin1"));
    // The whole chain goes out: a proxy only verifies together with the certificate above it.
    certPem = cred.chainPem.join("");
    keyPem = cred.keyPem;
  }
  if (!certPem || !keyPem) {
    throw new Error("client credentials: give credentialFile, or certPem and keyPem");
  }
  return { cert: certPem, key: keyPem, ca: loadCaDir(opts.caDir) };
}

function loadCaDir(dir: string): string[] {
  const cas: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!CA_FILE.test(name)) continue;
    const data = readFileSync(join(dir, name));
    // IGTF directories hold PEM, but a DER file is accepted the same way the server does.
    const text = data.toString("latin1");
    cas.push(text.includes("-----BEGIN") ? text : new X509Certificate(data).toString());
  }
  if (cas.length === 0) throw new Error(`no CA certificates (<hash>.N files) in ${dir}`);
  return cas;
}

/**
 * Reading a credential file: a proxy, a certificate with its key, or a chain. Apart from proxy
 * making (proxy.ts), which needs the certificate builder: a client that only reads its
 * credential (a pilot, the command line) does not load it.
 */
import { derToPem, pemCertificates } from "./cert-info.js";

export interface Credential {
  /** Certificates in file order (leaf first), each one PEM block. */
  chainPem: string[];
  /** The first private key in the file, if any. */
  keyPem: string | undefined;
}

const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/** Split a proxy file, a certificate file or a chain into its certificates and key. */
export function readCredentialFile(pem: string): Credential {
  const key = KEY_BLOCK.exec(pem);
  return {
    chainPem: pemCertificates(pem).map((d) => derToPem(d)),
    keyPem: key ? key[0] + "\n" : undefined,
  };
}

/**
 * Reading the client's certificate chain off a TLS socket. The server asks for a certificate
 * but lets any chain through the handshake (OpenSSL rejects RFC 3820 proxies), so the chain it
 * presented must be verified here, before the WebSocket upgrade is accepted.
 */
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

/**
 * The presented chain, leaf first, as DER. getPeerCertificate(true) links each certificate to
 * its issuer among those the client sent (then the local store); following the links yields
 * the leaf, the proxies' owner chain, and any intermediates, in issuing order. A self-signed
 * certificate links to itself, which ends the walk.
 */
export function presentedChain(socket: TLSSocket): Buffer[] {
  // With no client certificate Node returns an empty object, hence the optional raw.
  const leaf: Partial<DetailedPeerCertificate> | null = socket.getPeerCertificate(true);
  if (!leaf?.raw) return [];
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let cert: Partial<DetailedPeerCertificate> | undefined = leaf;
  while (cert?.raw) {
    const fp = cert.fingerprint256 ?? cert.raw.toString("base64");
    if (seen.has(fp)) break;
    seen.add(fp);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}

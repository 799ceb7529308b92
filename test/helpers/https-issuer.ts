/**
 * A token issuer as an IAM is one, for tests: an issuer directory (`updraft token init`, RS256,
 * which A-REX 6.17 takes) and an HTTPS server on loopback serving its
 * `/.well-known/openid-configuration` and `jwks_uri`, with the test PKI's host certificate.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { initIssuerDir, issueToken, type IssueOptions } from "../../src/security/token-issuer.js";
import type { TestPki } from "./pki.js";

export interface HttpsIssuer {
  /** The issuer string, `https://localhost:PORT`. */
  url: string;
  /** The issuer directory (signing-key.pem, jwks.json, issuer). */
  dir: string;
  issue(o: IssueOptions): Promise<string>;
  /** Requests answered so far, by path: what a verifier's key refreshes cost the issuer. */
  readonly requests: ReadonlyMap<string, number>;
  /** TCP connections accepted so far, whether or not their TLS handshake succeeded. */
  readonly connections: () => number;
  close(): void;
}

export async function startHttpsIssuer(pki: TestPki, parent: string): Promise<HttpsIssuer> {
  let url = "";
  let jwks = "";
  const requests = new Map<string, number>();
  const server = createServer(
    { cert: readFileSync(pki.host.certFile), key: readFileSync(pki.host.keyFile) },
    (req, res) => {
      // A-REX asks with the absolute URL in the request line.
      const path = new URL(req.url ?? "/", url).pathname;
      requests.set(path, (requests.get(path) ?? 0) + 1);
      const body =
        path === "/.well-known/openid-configuration"
          ? JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks.json` })
          : path === "/jwks.json"
            ? jwks
            : undefined;
      res.writeHead(body ? 200 : 404, { "Content-Type": "application/json" });
      res.end(body ?? "");
    },
  );
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
  const dir = join(parent, "issuer");
  const init = await initIssuerDir(dir, url, "RS256");
  if (!init.ok) throw new Error(`issuer directory: ${init.reason}`);
  jwks = readFileSync(init.dir.jwksFile, "utf8");
  return {
    url,
    dir,
    issue: (o) => issueToken(dir, o),
    requests,
    connections: () => connections,
    close: () => server.close(),
  };
}

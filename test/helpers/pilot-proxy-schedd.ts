/**
 * A real schedd that takes per-pilot proxies: `require_pilot_binding` on, a revoked pilots file
 * (in the tokens block, for proxies as for tokens), pilots by their certificate's name, and the
 * frontend's own pilot proxy made by the real grid-proxy-init from the test pilot certificate.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { initIssuerDir } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { DN, startEnv, type TestEnv } from "../schedd/harness.js";
import { output, run } from "../security/tools.js";

export interface PilotProxySchedd {
  env: TestEnv;
  dir: string;
  /** The schedd's `tokens.revoked_pilots_file`, read again when it changes. */
  revokedFile: string;
  /** The frontend's pilot proxy, the one grid-proxy-init made. */
  frontendProxy: string;
  /** A pilot's client of the schedd with `credentialFile`, or a certificate and key; closed by close(). */
  pilotClient(
    credential: { credentialFile: string } | { certPem: string; keyPem: string },
  ): ScheddClient;
  close(): Promise<void>;
}

/** `revoked`: the revoked pilots file's first text. */
export async function startPilotProxySchedd(
  prefix: string,
  revoked: string,
): Promise<PilotProxySchedd> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const revokedFile = join(dir, "revoked-pilots");
  writeFileSync(revokedFile, revoked);
  // The tokens block holds the revocation list; no token is used.
  const init = await initIssuerDir(join(dir, "issuer"), "https://frontend.example.org/pilots");
  assert.ok(init.ok);
  const env = await startEnv({
    extra: {
      require_pilot_binding: true,
      tokens: {
        issuers: [{ issuer: "https://frontend.example.org/pilots", jwks_file: init.dir.jwksFile }],
        accept_any_audience: true,
        revoked_pilots_file: revokedFile,
      },
      authorization: {
        rules: [
          { identity: DN.alice, roles: ["user"] },
          { identity: DN.bob, roles: ["user"] },
          { identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] },
        ],
        default_roles: [],
      },
    },
  });
  const frontendProxy = join(dir, "frontend-pilot.proxy");
  const r = run("grid-proxy-init", [
    "-rfc",
    "-cert",
    env.creds.pilot.certFile,
    "-key",
    env.creds.pilot.keyFile,
    "-certdir",
    env.pki.caDir,
    "-out",
    frontendProxy,
  ]);
  assert.equal(r.status, 0, `grid-proxy-init failed: ${output(r)}`);
  const opened: ScheddClient[] = [];
  return {
    env,
    dir,
    revokedFile,
    frontendProxy,
    pilotClient(credential) {
      const c = scheddClient(
        createRpcClient({
          url: env.schedd.url(),
          caDir: env.pki.caDir,
          ...credential,
          backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
        }),
      );
      opened.push(c);
      return c;
    },
    async close() {
      for (const c of opened) await c.rpc.close();
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A frontend pilot proxy that cannot sign per-pilot proxies is pilot-proxy, when a batch is
 * minted and when a running pilot's proxy is renewed. The messages are unchanged.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { after, test } from "node:test";
import { hasErrorCode } from "../../src/common/errors.js";
import { mintPilotProxyBatch } from "../../src/frontend/pilot-proxies.js";
import { proxySigner } from "../../src/frontend/pilot-renewal.js";
import { createTestPki } from "../helpers/pki.js";

const pki = createTestPki();
after(() => rmSync(pki.dir, { recursive: true, force: true }));
// The operator's mistake: the pilot_proxies credential names a certificate file, not a proxy.
const certOnly = readFileSync(pki.user.certFile, "utf8");
const binding = { frontend: "fe", group: "main", entry: "e1" };
const message = "the pilot proxy file holds no certificate and key to sign with";

function pilotProxyError(err: unknown): boolean {
  assert.ok(hasErrorCode(err, "pilot-proxy"), String(err));
  assert.equal((err as Error).message, message);
  return true;
}

test("minting from a pilot proxy file without a key is pilot-proxy", async () => {
  await assert.rejects(
    mintPilotProxyBatch(
      { binding, count: 1, proxyIssuer: Buffer.from(certOnly, "latin1") },
      { lifetime_s: 3600, batch_max: 10 },
    ),
    pilotProxyError,
  );
});

test("renewing from a pilot proxy file without a key is pilot-proxy", async () => {
  const sign = proxySigner(certOnly, 3600);
  const nowS = Math.floor(Date.now() / 1000);
  await assert.rejects(
    sign(
      {
        sub: "pilot-p1",
        binding: { ...binding, pilotId: "p1", renewUntil: nowS + 7200 },
        keyPem: "",
      },
      nowS * 1000,
    ),
    pilotProxyError,
  );
});

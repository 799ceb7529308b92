/**
 * A frontend's batch of per-pilot tokens or proxies, decrypted by the factory, is refused whole
 * with the catalogued code credential-batch when it is not what its type says or holds too many.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { hasErrorCode } from "../../src/common/errors.js";
import { storePilotProxyBatch, storePilotTokenBatch } from "../../src/factory/credentials.js";
import { encryptCredential } from "../../src/security/credential-crypto.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-credbatch-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const seal = (text: string) => encryptCredential(text, publicKey);
const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwIn0.c2ln";
const block = (label: string) => `-----BEGIN ${label}-----\nQUJD\n-----END ${label}-----\n`;

function refused(store: () => unknown, message: string | RegExp) {
  assert.throws(store, (err) => {
    assert.ok(hasErrorCode(err, "credential-batch"), String(err));
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test("a token batch of JWTs is stored one a file; anything else, or too many, is refused", () => {
  const base = join(dir, "tokens");
  assert.equal(storePilotTokenBatch(base, "c1", seal(`${JWT}\n${JWT}\n`), keyPem).length, 2);
  refused(
    () => storePilotTokenBatch(base, "c1", seal(`${JWT}\nnot-a-token\n`), keyPem),
    "the batch holds something other than JWT tokens",
  );
  refused(
    () => storePilotTokenBatch(base, "c1", seal(`${JWT}\n${JWT}\n${JWT}\n`), keyPem, 2),
    "more than 2 tokens in one batch",
  );
});

test("a proxy batch is pairs then their chain; anything else, or too many, is refused", () => {
  const base = join(dir, "proxies");
  const pair = block("CERTIFICATE") + block("PRIVATE KEY");
  const chain = block("CERTIFICATE");
  const stored = storePilotProxyBatch(base, "c1", seal(pair + pair + chain), keyPem);
  assert.equal(stored.length, 2);
  const clientDir = dirname(stored[0]!.file);
  const before = readdirSync(clientDir).sort();
  refused(
    () => storePilotProxyBatch(base, "c1", seal(`${pair}${chain}echo pwned\n`), keyPem),
    "the batch holds something other than PEM blocks",
  );
  refused(
    () => storePilotProxyBatch(base, "c1", seal(block("PRIVATE KEY") + chain), keyPem),
    "the batch is not proxy certificate and key pairs followed by their chain",
  );
  refused(
    () => storePilotProxyBatch(base, "c1", seal(pair + pair + chain), keyPem, 1),
    "more than 1 proxies in one batch",
  );
  assert.deepEqual(readdirSync(clientDir).sort(), before, "a refused batch stores nothing");
});

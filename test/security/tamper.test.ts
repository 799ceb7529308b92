/** Property: changing any byte of a good proxy chain never yields an acceptance. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { verifyChain } from "../../src/security/verify.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { FAST_BITS } from "./fixtures/bad-certs.js";

let pki: TestPki;
before(() => {
  pki = createTestPki({ bits: FAST_BITS });
});
after(() => pki.cleanup());

test("a chain with any one byte changed is refused", () => {
  const trust = pki.trust();
  const chain = pki.chainDer(pki.proxyOf(pki.proxy).pem);
  assert.ok(verifyChain(chain, trust).ok);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: chain.length - 1 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.integer({ min: 1, max: 255 }),
      (which, where, xor) => {
        const tampered = chain.map((c) => Buffer.from(c));
        const i = Math.floor(where * tampered[which].length);
        tampered[which][i] ^= xor;
        const r = verifyChain(tampered, trust);
        return !r.ok;
      },
    ),
    { numRuns: 300 },
  );
});

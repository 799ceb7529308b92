/**
 * The RFC 6750 challenge a refused bearer token gets: written from fixed words only, and read
 * strictly, so neither side can carry text a peer chose.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatBearerChallenge,
  parseBearerChallenge,
  TOKEN_CHECKS,
  tokenRefusalMessage,
} from "../../src/security/token-refusal.js";

test("every check round-trips through the challenge and has its own message", () => {
  const messages = new Set<string>();
  for (const check of TOKEN_CHECKS) {
    const header = formatBearerChallenge({ error: "invalid_token", check });
    assert.equal(header, `Bearer error="invalid_token", error_description="${check}"`);
    const back = parseBearerChallenge(header);
    assert.deepEqual(back, { error: "invalid_token", check });
    messages.add(tokenRefusalMessage(back!));
  }
  assert.equal(messages.size, TOKEN_CHECKS.length);
});

test("scopes go in an insufficient_scope challenge only, and only well-formed ones", () => {
  assert.equal(
    formatBearerChallenge({
      error: "insufficient_scope",
      check: "scope",
      scopes: ["compute.read", 'x"\r\nX-Injected: 1', "a\\b", "compute.create:/vo"],
    }),
    'Bearer error="insufficient_scope", error_description="scope", ' +
      'scope="compute.read compute.create:/vo"',
  );
  assert.equal(
    formatBearerChallenge({ error: "invalid_token", check: "expired", scopes: ["compute.read"] }),
    'Bearer error="invalid_token", error_description="expired"',
  );
  const back = parseBearerChallenge(
    'Bearer error="insufficient_scope", error_description="scope", scope="compute.read x\x01y"',
  );
  assert.deepEqual(back, {
    error: "insufficient_scope",
    check: "scope",
    scopes: ["compute.read"],
  });
  assert.match(tokenRefusalMessage(back!), /\(check: scope\): .*\(compute\.read\); get one/);
});

test("a challenge with an unknown error or check, or none, is not read", () => {
  for (const h of [
    undefined,
    ["Bearer a", "Bearer b"],
    "",
    'Basic realm="x"',
    'Bearer error="invalid_request", error_description="expired"',
    'Bearer error="invalid_token", error_description="you are holding it wrong"',
    'Bearer error="invalid_token"',
    `Bearer error="invalid_token", error_description="expired"${" ".repeat(5000)}`,
  ]) {
    assert.equal(parseBearerChallenge(h), undefined, JSON.stringify(h));
  }
  assert.deepEqual(
    parseBearerChallenge(
      'bearer  realm="updraft", error="invalid_token", error_description="size"',
    ),
    {
      error: "invalid_token",
      check: "size",
    },
  );
});

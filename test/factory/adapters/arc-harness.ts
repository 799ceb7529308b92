/**
 * What the factory's tests at a real A-REX share: an A-REX that admits one token issuer's tokens
 * for its own endpoint only, the scopes a CE token needs there, a pilot script that fails unless
 * it holds a proxy delegated from the frontend's pilot credential, and a wait for a condition.
 */
import assert from "node:assert/strict";
import { startArcPeer, type ArcPeer } from "../../helpers/arc-peer.js";
import { startHttpsIssuer, type HttpsIssuer } from "../../helpers/https-issuer.js";
import { DN } from "../../collector/harness.js";
import type { TestPki } from "../../helpers/pki.js";
import { PILOT_OK } from "../factory-harness.js";

/** What a CE token must allow at A-REX: create, read, modify and cancel its jobs. */
export const CE_TOKEN_SCOPE = "compute.create compute.read compute.modify compute.cancel";

/** A pilot that runs only with a proxy delegated from the test pilot certificate. */
export const DELEGATED_PROXY_PILOT =
  'openssl x509 -in "$X509_USER_PROXY" -noout -issuer -nameopt compat |\n' +
  `  grep -q '^issuer=${DN.pilot}/CN=[0-9]*$' || exit 9\n` +
  PILOT_OK;

/** A token issuer on loopback and a real A-REX that takes its tokens, audience its endpoint. */
export async function startTokenArc(
  pki: TestPki,
  dir: string,
): Promise<{ issuer: HttpsIssuer; peer: ArcPeer }> {
  const issuer = await startHttpsIssuer(pki, dir);
  const peer = await startArcPeer({
    pki,
    allowedDns: [],
    tokenIssuer: issuer.url,
    pinTokenAudience: true,
  });
  return { issuer, peer };
}

/** Polls `fn` every half second until it holds; fails after `ms`. */
export async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 500));
  }
}

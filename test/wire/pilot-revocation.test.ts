/**
 * Pilots revoked by id at a real listener: a pilot token whose pilot id is in the revocation
 * file is refused at the upgrade naming the revocation; a pilot already connected is cut off when
 * its id is appended; other pilots of the same issuer keep working; a broken file keeps the list.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { createAuthorizer } from "../../src/security/authz.js";
import { pilotBindingClaim, PILOT_BINDING_CLAIM } from "../../src/security/pilot-binding.js";
import {
  createPilotRevocationFile,
  parseRevokedPilots,
} from "../../src/security/pilot-revocations.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createIssuerKeySource } from "../../src/security/token-keys.js";
import { createTokenVerifier } from "../../src/security/token-verify.js";
import { createTestPki, startServer, type TestPki, type TestServer } from "./harness.js";

const ISS = "https://frontend.example.org/pilots";
const AUD = "wss://schedd.example.org";
let pki: TestPki;
let ts: TestServer;
let dir: string;
let revokedFile: string;

before(async () => {
  pki = createTestPki();
  dir = mkdtempSync(join(tmpdir(), "updraft-revoke-"));
  const init = await initIssuerDir(join(dir, "issuer"), ISS);
  assert.ok(init.ok);
  revokedFile = join(dir, "revoked-pilots");
  writeFileSync(revokedFile, "# revoked pilots\npilot-old\n");
  ts = await startServer(pki, {
    tokenVerifier: createTokenVerifier({
      issuers: [createIssuerKeySource(ISS, { jwksFile: init.dir.jwksFile })],
      audiences: [AUD],
    }),
    authorizer: createAuthorizer({ rules: [{ issuer: ISS, roles: ["read"] }], default_roles: [] }),
    pilotRevocations: createPilotRevocationFile(revokedFile, { minIntervalMs: 0 }),
    limits: { pingIntervalMs: 50 },
  });
});
after(async () => {
  await ts.server.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const pilotToken = (pilotId: string) =>
  issueToken(join(dir, "issuer"), {
    sub: `pilot-${pilotId}`,
    audiences: [AUD],
    lifetimeS: 600,
    extra: {
      [PILOT_BINDING_CLAIM]: pilotBindingClaim({ frontend: "fe", group: "g", entry: "e", pilotId }),
    },
  });

type Outcome = { open: true; ws: WebSocket } | { open: false; status: number; reason: string };

function upgrade(token: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(ts.url, {
      ca: readFileSync(pki.caCertFile),
      headers: { Authorization: `Bearer ${token}` },
    });
    ws.on("open", () => resolve({ open: true, ws }));
    ws.on("unexpected-response", (_req, res: IncomingMessage) => {
      resolve({
        open: false,
        status: res.statusCode ?? 0,
        reason: String(res.headers["x-updraft-reason"]),
      });
      res.resume();
    });
    ws.on("error", reject);
  });
}

test("a revoked pilot's token is refused at the upgrade, naming the revocation", async () => {
  const o = await upgrade(await pilotToken("pilot-old"));
  assert.ok(!o.open);
  assert.equal(o.status, 401);
  assert.match(o.reason, /\(check: revoked\): the pilot it was made for is revoked/);
});

test("a line naming the token's sub (pilot-<id>) revokes that pilot too", async () => {
  appendFileSync(revokedFile, "pilot-p-by-sub\n");
  const o = await upgrade(await pilotToken("p-by-sub"));
  assert.ok(!o.open);
  assert.equal(o.status, 401);
  assert.match(o.reason, /\(check: revoked\): the pilot it was made for is revoked/);
});

test("a connected pilot is cut off when its id is appended; the others stay", async () => {
  const victim = await upgrade(await pilotToken("p-victim"));
  const other = await upgrade(await pilotToken("p-other"));
  assert.ok(victim.open && other.open);
  const closed = new Promise<void>((resolve) => victim.ws.on("close", () => resolve()));
  appendFileSync(revokedFile, "p-victim\n");
  await closed; // the test runner's timeout is the bound: the close comes on the next sweep
  assert.equal(other.ws.readyState, WebSocket.OPEN, "a pilot not listed keeps its connection");
  const again = await upgrade(await pilotToken("p-victim"));
  assert.ok(!again.open, "and cannot come back");
  other.ws.close();
});

test("a revocation file that turns unreadable keeps the list in force", async () => {
  const file = join(dir, "flaky");
  writeFileSync(file, "p1\n");
  const errors: string[] = [];
  const r = createPilotRevocationFile(file, { minIntervalMs: 0, onError: (e) => errors.push(e) });
  writeFileSync(file, "p1\nnot a pilot id!\n");
  assert.equal(r.recheck(), false);
  assert.ok(r.isRevoked("p1"));
  assert.match(errors[0] ?? "", /line 2 is not a pilot id/);
  rmSync(file);
  assert.equal(r.recheck(), false);
  assert.ok(r.isRevoked("p1"));
  assert.throws(() => createPilotRevocationFile(join(dir, "missing")), /ENOENT/);
});

test("revocation lines: comments and blanks skipped, hostile lines refused", () => {
  assert.deepEqual([...(parseRevokedPilots("a # x\n\n  b  \n#c\n") as Set<string>)], ["a", "b"]);
  assert.ok("error" in parseRevokedPilots("ok\n../etc\n"));
  assert.ok("error" in parseRevokedPilots("x".repeat(200)));
});

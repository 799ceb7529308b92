/**
 * The demo pool as it comes, on per-pilot tokens: the frontend mints one token per pilot, the
 * factory hands each pilot its own, and the pilots advertise and run jobs on those tokens alone.
 * Every Slot ad the collector holds meanwhile was written by a token identity of the frontend's
 * issuer, each pilot its own. And a pilot whose token cannot be renewed for its whole walltime
 * fails validation as VO_Proxy, as a pilot with a proxy too short for it does (e2e-security).
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writePrivateFile } from "../../src/security/ca-dir.js";
import { PILOT_BINDING_CLAIM, pilotBindingClaim } from "../../src/security/pilot-binding.js";
import { loadIssuer, signToken } from "../../src/security/token-issuer.js";
import {
  DEMO_CONFIG,
  DEMO_TOKEN_CREDENTIALS,
  history,
  startTestPool,
  unquote,
  waitFor,
  type TestPool,
} from "./pool-harness.js";

const PILOT_ISSUER = "https://localhost/updraft-demo/pilots";
const FRONTEND_DN = "/DC=org/DC=example/OU=Services/CN=frontend";
const GUARD_MS = 180_000;
let tp: TestPool;

before(async () => {
  const text = readFileSync(join(DEMO_CONFIG, "frontend.yaml"), "utf8");
  assert.ok(text.includes(DEMO_TOKEN_CREDENTIALS), "the demo frontend hands out pilot tokens");
  tp = await startTestPool();
});
after(async () => {
  await tp?.close();
});

test("pilots on per-pilot tokens only advertise under their own identities and run the jobs", async () => {
  const cluster = await tp.submit("hello.sub", 3, 0);
  const writers = new Set<string>();
  const done = await waitFor(
    "the 3 jobs to complete on token pilots",
    async () => {
      for (const ad of await tp.clients.collector.query({ type: "Slot" })) {
        writers.add(unquote(ad.AuthenticatedIdentity) ?? "");
      }
      const h = await history(tp, [cluster], ["JobStatus"]);
      return h.length >= 3 ? h : undefined;
    },
    GUARD_MS,
  );
  assert.deepEqual(
    done.map((j) => j.JobStatus),
    ["4", "4", "4"],
  );
  assert.ok(writers.size >= 1, "a pilot's slot was seen");
  for (const w of writers) {
    assert.match(w, new RegExp(`^${PILOT_ISSUER}#pilot-[0-9a-f-]{36}$`), "a token pilot wrote it");
  }
});

test("a pilot whose token cannot be renewed for its walltime fails as VO_Proxy and claims nothing", async () => {
  // A token of the frontend's own issuer for a pilot of ten minutes, renewable for five only:
  // what a pilot gets when it starts later than its first token's life.
  const issuer = await loadIssuer(join(tp.pool.stateDir, "frontend-tokens"));
  const nowS = Math.floor(Date.now() / 1000);
  const token = await signToken(issuer, {
    sub: "pilot-short-renewal",
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    lifetimeS: 120,
    extra: {
      [PILOT_BINDING_CLAIM]: pilotBindingClaim({
        frontend: "demo-frontend",
        group: "main",
        entry: "Demo_US_Nebraska",
        factory: "demo-factory",
        pilotId: "short-renewal",
        renewUntil: nowS + 300,
      }),
    },
  });
  const file = join(tp.jobsDir, "short-renewal.token");
  writePrivateFile(file, `${token}\n`);
  const work = join(tp.jobsDir, "short-renewal-pilot");
  mkdirSync(work);
  const r = await tp.cli(
    [
      "pilot",
      "run",
      "--work-dir",
      work,
      "--collector",
      tp.pool.collectorUrl,
      "--schedd",
      tp.pool.scheddUrl,
      "--credential",
      file,
      "--trust-dir",
      tp.pool.pki!.trustDir,
      "--pilot-id",
      "short-renewal",
      "--max-walltime",
      "600",
    ],
    // As the factory would start it: renewable, from the demo frontend.
    { UPDRAFT_FRONTEND_IDENTITY: FRONTEND_DN },
  );
  assert.equal(r.code, 15, `exit code of class VO_Proxy: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /VO_Proxy/);
  assert.match(r.stdout, new RegExp(`credential ${file} has \\d+ s left to renew, \\d+ s needed`));
  assert.match(r.stdout, /Jobs: 0/);
  assert.ok(!(r.stdout + r.stderr).includes(token.slice(-40)), "no token in the output");
  const slots = await tp.clients.collector.query({ type: "Slot", projection: ["Name"] });
  assert.ok(!slots.some((s) => unquote(s.Name)?.includes("@short-renewal@")), "no slot advertised");
});

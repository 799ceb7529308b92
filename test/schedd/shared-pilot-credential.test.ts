/**
 * What a stolen shared pilot credential (one proxy for all pilots of a frontend group, no
 * binding) is worth at a real schedd, and what `require_pilot_binding` leaves it: by default the
 * thief's own slot ad is trusted and every lease of that credential is the thief's too; with the
 * option on, the shared credential claims nothing while a bound per-pilot token still claims
 * within its start_expr.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { PILOT_BINDING_CLAIM } from "../../src/security/pilot-binding.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { DN, codeOf, job, rpcFor, slot, startEnv, submit, type TestEnv } from "./harness.js";

const ISS = "https://frontend.pool.example.org";
const AUD = "https://schedd.pool.example.org";
const rules = (extra: object[] = []) => ({
  rules: [
    { identity: DN.alice, roles: ["user"] },
    { identity: DN.bob, roles: ["user"] },
    { identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] },
    ...extra,
  ],
  default_roles: [],
});

let open: TestEnv;
let strict: TestEnv;
let issuerDir: string;
const opened: ScheddClient[] = [];

before(async () => {
  issuerDir = mkdtempSync(join(tmpdir(), "updraft-issuer-"));
  const init = await initIssuerDir(issuerDir, ISS);
  assert.ok(init.ok);
  open = await startEnv({ extra: { authorization: rules() } });
  strict = await startEnv({
    extra: {
      require_pilot_binding: true,
      public_url: AUD,
      tokens: { issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }], leeway_s: 0 },
      authorization: rules([{ issuer: ISS, sub: "pilot-*", roles: ["pilot"] }]),
    },
  });
});
after(async () => {
  for (const c of opened) await c.rpc.close();
  await open.close();
  await strict.close();
  rmSync(issuerDir, { recursive: true, force: true });
});

/** A second connection with the same shared pilot certificate, as a job that copied it has. */
function thief(env: TestEnv): ScheddClient {
  const c = scheddClient(rpcFor(env.pki, env.creds, "pilot", env.schedd.url()));
  opened.push(c);
  return c;
}

function tokenPilot(env: TestEnv, token: string): ScheddClient {
  const c = scheddClient(
    createRpcClient({
      url: env.schedd.url(),
      caDir: env.pki.caDir,
      bearerToken: token,
      backoff: { initialMs: 20, maxMs: 200, minMs: 5 },
    }),
  );
  opened.push(c);
  return c;
}

// A thief's slot ad: any site, any entry, START = true.
const forged = slot({ GLIDEIN_Site: '"Anywhere"', GLIDEIN_Entry_Name: '"Any_Entry"' });

test("without require_pilot_binding a stolen shared credential claims with its own slot ad and holds every lease of that credential", async () => {
  // bob's job runs only at a site no real pilot advertises.
  const c = await submit(open.client("bob"), [
    job({ Requirements: 'TARGET.GLIDEIN_Site == "Anywhere"' }),
  ]);
  const stolen = await thief(open).claimJob(forged);
  assert.equal(stolen.jobId, `${c}.0`, "the forged slot ad was trusted as sent");

  // The real pilot's lease, taken with the same shared credential, answers to the thief too.
  const c2 = await submit(open.client("alice"), [job()]);
  const real = await open.client("pilot").claimJob(slot());
  assert.equal(real.jobId, `${c2}.0`);
  const receipt = await thief(open).completeJob({ leaseId: real.leaseId });
  assert.equal(receipt.jobStatus, 4, "the thief completed the real pilot's job");

  // What it cannot do: another pilot identity's leases stay out of reach.
  const c3 = await submit(open.client("alice"), [job()]);
  const other = await open.client("pilot2").claimJob(slot({ Name: '"slot1@glidein_2"' }));
  assert.equal(other.jobId, `${c3}.0`);
  await assert.rejects(
    thief(open).completeJob({ leaseId: other.leaseId }),
    (e) => codeOf(e) === "permission-denied",
  );
});

test("with require_pilot_binding the shared credential claims nothing, and a per-pilot token claims only what its start_expr admits", async () => {
  await submit(strict.client("bob"), [job()]);
  const aliceCluster = await submit(strict.client("alice"), [job()]);
  await assert.rejects(
    thief(strict).claimJob(forged),
    (e) => codeOf(e) === "permission-denied" && /binding/.test((e as Error).message),
  );
  // The jobs are still idle: the refused claim took nothing.
  const idle = await strict.client("alice").query({ ids: [`${aliceCluster}.0`] });
  assert.equal(idle[0]!.JobStatus, "1");

  const token = await issueToken(issuerDir, {
    sub: "pilot-7",
    audiences: [AUD],
    lifetimeS: 600,
    extra: {
      [PILOT_BINDING_CLAIM]: {
        frontend: "fe1",
        group: "main",
        entry: "Entry_A",
        site: "Site_A",
        pilot_id: "7",
        start_expr: 'TARGET.Owner == "alice"',
      },
    },
  });
  const pilot = tokenPilot(strict, token);
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${aliceCluster}.0`, "bob's older job is not admitted by start_expr");
  // A second claim finds nothing it may take: bob's job stays idle.
  const none = await pilot.claimJob(slot({ Name: '"slot2@glidein_7"' }));
  assert.equal(none.matched, false);
  await pilot.completeJob({ leaseId: offer.leaseId });
});

/**
 * Per-pilot X.509 proxies at a real schedd with `require_pilot_binding`: the frontend signs, from
 * a proxy the real grid-proxy-init made of its pilot certificate, one proxy per pilot whose RFC
 * 3820 policy carries the binding (frontend, group, entry, pilot id, start_expr). The shared proxy
 * claims nothing; a per-pilot proxy claims only what its binding admits; a proxy signed below it
 * that drops or changes the binding is refused at the upgrade; its pilot id is revoked as a pilot
 * token's is.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  buildCertificate,
  keyUsageExt,
  proxyCertInfoExt,
} from "../../src/security/cert-builder.js";
import {
  KeyUsageBit,
  OID,
  derToPem,
  parseCertificate,
  pemCertificates,
} from "../../src/security/cert-info.js";
import { appendCn } from "../../src/security/dn-encode.js";
import { generateRsaKey, loadPrivateKey } from "../../src/security/keys.js";
import { pilotBindingClaim, type PilotBinding } from "../../src/security/pilot-binding.js";
import { readCredentialFile } from "../../src/security/credential-file.js";
import { createProxy } from "../../src/security/proxy.js";
import { loadTrustDir } from "../../src/security/trust.js";
import { verifyChain } from "../../src/security/verify.js";
import { startPilotProxySchedd, type PilotProxySchedd } from "../helpers/pilot-proxy-schedd.js";
import { DN, codeOf, job, slot, submit, type TestEnv } from "./harness.js";

let ps: PilotProxySchedd;
let env: TestEnv;
let dir: string;
let sharedProxy: string;

before(async () => {
  ps = await startPilotProxySchedd("updraft-pilot-proxy-", "# revoked pilots\n33\n");
  ({ env, dir } = ps);
  // The frontend's pilot proxy, made by the real grid-proxy-init from its pilot certificate.
  sharedProxy = ps.frontendProxy;
});
after(() => ps.close());

const BINDING: PilotBinding = {
  frontend: "fe1",
  group: "main",
  entry: "Entry_A",
  site: "Site_A",
  pilotId: "31",
  startExpr: 'TARGET.Owner == "alice"',
};

/** The frontend's per-pilot proxy, signed from the shared proxy with the binding in its policy. */
function perPilotProxy(name: string, binding: PilotBinding): string {
  const pem = readFileSync(sharedProxy, "utf8");
  const cred = readCredentialFile(pem);
  const file = join(dir, name);
  const out = createProxy({
    certChainPem: cred.chainPem.join(""),
    keyPem: cred.keyPem!,
    hours: 1,
    binding,
  });
  writeFileSync(file, out, { mode: 0o600 });
  return file;
}

/** A proxy signed below `file` with the policy a thief chooses (not through createProxy). */
function childProxy(
  file: string,
  name: string,
  policy: { policyLanguage: string; policy?: Buffer },
): string {
  const cred = readCredentialFile(readFileSync(file, "utf8"));
  const issuer = parseCertificate(pemCertificates(cred.chainPem[0]!)[0]!);
  const key = generateRsaKey(2048);
  const der = buildCertificate(
    {
      serial: Buffer.from("0badc0de", "hex"),
      issuerDer: issuer.subjectDer,
      subjectDer: appendCn(issuer.subjectDer, "12345"),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: issuer.notAfter,
      spkiDer: key.spkiDer,
      extensions: [
        proxyCertInfoExt(policy),
        keyUsageExt([KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment]),
      ],
    },
    loadPrivateKey(cred.keyPem!),
  );
  const out = join(dir, name);
  writeFileSync(out, [derToPem(der), key.privateKeyPem, ...cred.chainPem].join(""), {
    mode: 0o600,
  });
  return out;
}

const pilotWith = (file: string) => ps.pilotClient({ credentialFile: file });

test("the shared grid-proxy-init proxy claims nothing; a per-pilot proxy claims only what its binding admits", async () => {
  await submit(env.client("bob"), [job()]);
  const aliceCluster = await submit(env.client("alice"), [job()]);
  await assert.rejects(
    pilotWith(sharedProxy).claimJob(slot()),
    (e) => codeOf(e) === "permission-denied" && /binding/.test((e as Error).message),
  );

  const pilot = pilotWith(perPilotProxy("pilot-31.proxy", BINDING));
  // The slot ad names another site: the binding's site wins, so the claim is refused.
  await assert.rejects(
    pilot.claimJob(slot({ GLIDEIN_Site: '"Anywhere"' })),
    (e) => codeOf(e) === "permission-denied" && /GLIDEIN_Site/.test((e as Error).message),
  );
  const offer = await pilot.claimJob(slot());
  assert.equal(offer.jobId, `${aliceCluster}.0`, "bob's older job is not admitted by start_expr");
  const none = await pilot.claimJob(slot({ Name: '"slot2@glidein_31"' }));
  assert.equal(none.matched, false, "bob's job stays idle");
  await pilot.completeJob({ leaseId: offer.leaseId });
});

test("a proxy signed below a per-pilot proxy that drops or changes its binding is refused", async () => {
  const bound = perPilotProxy("pilot-32.proxy", { ...BINDING, pilotId: "32" });
  const dropped = childProxy(bound, "dropped.proxy", { policyLanguage: OID.policyInheritAll });
  const changed = childProxy(bound, "changed.proxy", {
    policyLanguage: OID.policyPilotBinding,
    policy: Buffer.from(JSON.stringify(pilotBindingClaim({ ...BINDING, site: "Anywhere" }))),
  });
  const trust = loadTrustDir(env.pki.caDir);
  for (const file of [dropped, changed]) {
    // Refused for the binding (the schedd tells the peer only that it was refused).
    const v = verifyChain(pemCertificates(readFileSync(file, "utf8")), trust);
    assert.ok(!v.ok && v.code === "proxy-policy", JSON.stringify(v));
    assert.match(v.reason, /does not carry the pilot binding of the proxy that issued it/);
    await assert.rejects(
      pilotWith(file).claimJob(slot()),
      (e) => codeOf(e) === "unauthenticated",
      file,
    );
  }
  // A binding that is not one refuses the proxy, never a proxy without a binding.
  for (const [name, policy, why] of [
    ["garbled.proxy", Buffer.from("{not json"), /pilot binding that is not JSON/],
    [
      "unknown.proxy",
      Buffer.from('{"frontend":"f","group":"g","entry":"e","x":1}'),
      /unknown key 'x'/,
    ],
  ] as const) {
    const file = childProxy(sharedProxy, name, { policyLanguage: OID.policyPilotBinding, policy });
    const v = verifyChain(pemCertificates(readFileSync(file, "utf8")), trust);
    assert.ok(!v.ok && v.code === "proxy-policy", JSON.stringify(v));
    assert.match(v.reason, why);
  }
  // Signed through createProxy, a further proxy keeps the binding and is accepted.
  const kept = createProxy({
    certChainPem: readCredentialFile(readFileSync(bound, "utf8")).chainPem.join(""),
    keyPem: readCredentialFile(readFileSync(bound, "utf8")).keyPem!,
    hours: 1,
  });
  const keptFile = join(dir, "kept.proxy");
  writeFileSync(keptFile, kept, { mode: 0o600 });
  const r = await pilotWith(keptFile).claimJob(slot({ Name: '"slot1@glidein_32"' }));
  assert.equal(r.matched, false, "accepted (nothing of alice's is idle), not refused");
  assert.throws(
    () =>
      createProxy({
        certChainPem: readCredentialFile(readFileSync(bound, "utf8")).chainPem.join(""),
        keyPem: readCredentialFile(readFileSync(bound, "utf8")).keyPem!,
        binding: { ...BINDING, site: "Anywhere" },
      }),
    /already carries another pilot binding/,
  );
});

test("a per-pilot proxy whose pilot id is revoked is refused at the upgrade; another pilot's is not", async () => {
  const revoked = perPilotProxy("pilot-33.proxy", { ...BINDING, pilotId: "33" });
  const other = perPilotProxy("pilot-34.proxy", { ...BINDING, pilotId: "34" });
  await assert.rejects(
    pilotWith(revoked).claimJob(slot({ Name: '"slot1@glidein_33"' })),
    (e) => codeOf(e) === "unauthenticated",
  );
  const r = await pilotWith(other).claimJob(slot({ Name: '"slot1@glidein_34"' }));
  assert.equal(r.matched, false);
});

test("per-pilot proxies of one certificate are separate pilots: one cannot complete another's lease", async () => {
  const cluster = await submit(env.client("alice"), [job()]);
  const a = pilotWith(perPilotProxy("pilot-35.proxy", { ...BINDING, pilotId: "35" }));
  const b = pilotWith(perPilotProxy("pilot-36.proxy", { ...BINDING, pilotId: "36" }));
  const offer = await a.claimJob(slot({ Name: '"slot1@glidein_35"' }));
  assert.equal(offer.jobId, `${cluster}.0`);
  await assert.rejects(
    b.completeJob({ leaseId: offer.leaseId }),
    (e) =>
      codeOf(e) === "permission-denied" && /issued to another pilot/.test((e as Error).message),
  );
  await a.completeJob({ leaseId: offer.leaseId });
});

test("a certificate whose own subject reads like a per-pilot identity is refused at the upgrade", async () => {
  // Else it would pass as pilot 35 of /DC=org/DC=example/CN=pilot01 and hold that pilot's leases.
  const lookalike = env.pki.issueUser(`${DN.pilot}#pilot-35`);
  const v = verifyChain(env.pki.chainDer(lookalike.certPem), loadTrustDir(env.pki.caDir));
  assert.ok(
    v.ok && v.identity === `${DN.pilot}#pilot-35`,
    "a valid certificate, refused for its name",
  );
  const c = ps.pilotClient({ certPem: lookalike.certPem, keyPem: lookalike.keyPem });
  await assert.rejects(c.claimJob(slot()), (e) => codeOf(e) === "unauthenticated");
});

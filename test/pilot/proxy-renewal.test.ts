/**
 * The pilot's side of per-pilot proxy renewal, and the frontend's signing: which renewed proxies
 * a pilot takes (for its key, same binding, same end-entity certificate, signed down the chain,
 * later end), and that only its own frontend's PilotCredential ad at a real collector counts. The
 * frontend's proxy is one the real grid-proxy-init made from the test CA's certificate.
 */
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  proxySigner,
  renewalKeyPem,
  renewPilotCredentials,
  type RenewalDue,
} from "../../src/frontend/pilot-renewal.js";
import { mintPilotProxyBatch } from "../../src/frontend/pilot-proxies.js";
import {
  acceptProxyRenewal,
  createProxyRenewer,
  proxyFacts,
} from "../../src/pilot/proxy-renewal.js";
import { checkCredential } from "../../src/pilot/validate/check-credential.js";
import type { NodeView } from "../../src/pilot/validate/node-view.js";
import { pemCertificates } from "../../src/security/cert-info.js";
import { readCredentialFile } from "../../src/security/credential-file.js";
import type { PilotBinding } from "../../src/security/pilot-binding.js";
import { createCA, issueUserCert } from "../../src/security/pki.js";
import { createProxy } from "../../src/security/proxy.js";
import { DN, type Pool, type Running } from "../collector/harness.js";
import { silentLog, startRenewalCollector } from "../helpers/renewal-pool.js";
import { output, run } from "../security/tools.js";

let dir: string;
let pool: Pool;
let collector: Running;
let stopCollector: () => Promise<void>;
/** The frontend's pilot proxy (grid-proxy-init), and another of another subject. */
let frontendProxy: string;
let otherSubjectProxy: string;

function gridProxy(who: "pilot" | "pilot2", out: string): string {
  const r = run("grid-proxy-init", [
    "-rfc",
    "-cert",
    pool.creds[who].certFile,
    "-key",
    pool.creds[who].keyFile,
    "-certdir",
    pool.pki.caDir,
    "-out",
    out,
  ]);
  assert.equal(r.status, 0, `grid-proxy-init failed: ${output(r)}`);
  return readFileSync(out, "latin1");
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "updraft-proxy-renewal-"));
  ({ pool, collector, stop: stopCollector } = await startRenewalCollector());
  frontendProxy = gridProxy("pilot", join(dir, "frontend.proxy"));
  otherSubjectProxy = gridProxy("pilot2", join(dir, "other.proxy"));
});
after(async () => {
  await stopCollector();
  rmSync(dir, { recursive: true, force: true });
});

const BINDING = { frontend: "fe", group: "main", entry: "e1", factory: "f1" };

/** One pilot's first proxy as the frontend mints it, renewable for `walltimeS` more. */
async function firstProxy(nowMs: number, lifetimeS = 120, walltimeS = 300): Promise<string> {
  return mintPilotProxyBatch(
    { binding: BINDING, count: 1, proxyIssuer: Buffer.from(frontendProxy, "latin1") },
    { lifetime_s: lifetimeS, batch_max: 1, max_walltime_s: walltimeS },
    new Date(nowMs),
  );
}

function rsaKey() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    spkiDer: publicKey.export({ type: "spki", format: "der" }),
    keyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKey,
  };
}

/** What the frontend renews for the held proxy's pilot, as renewalsDue gives it. */
function dueFor(held: string, keyPem: string, binding?: Partial<PilotBinding>): RenewalDue {
  const f = proxyFacts(readCredentialFile(held).chainPem.join(""), 0)!;
  const b = JSON.parse(f.policy.toString("utf8")) as Record<string, unknown>;
  return {
    sub: f.name,
    binding: {
      ...BINDING,
      pilotId: b.pilot_id as string,
      renewUntil: b.renew_until as number,
      ...binding,
    },
    keyPem,
  };
}

async function renewal(signerPem: string, due: RenewalDue, nowMs: number, lifetimeS = 120) {
  const r = await proxySigner(signerPem, lifetimeS)(due, nowMs);
  return JSON.parse(r.attrs.UpdraftProxyChain!) as string;
}

test("a first pilot proxy carries renew_until, and only then is it renewable", async () => {
  const nowMs = Date.now();
  const nowS = Math.floor(nowMs / 1000);
  const held = await firstProxy(nowMs);
  const f = proxyFacts(held, nowS);
  assert.ok(f);
  assert.match(f.name, /^pilot-[0-9a-f-]{36}$/);
  assert.equal(f.renewUntil, nowS + 120 + 300);
  assert.ok(Math.abs(f.exp - (nowS + 120)) <= 1, `exp ${f.exp} for ${nowS + 120}`);
  const fixed = await firstProxy(nowMs, 120, 0);
  assert.equal(proxyFacts(fixed, nowS), undefined, "no walltime: no renew_until, no renewal");
  assert.equal(createProxyRenewer(fixed, { frontendIdentity: DN.frontend }), undefined);
  assert.equal(proxyFacts(frontendProxy, nowS), undefined, "an unbound proxy is not renewed");
});

test("a renewed proxy is taken only for the pilot's key, with the same binding and end-entity certificate, signed down the chain, ending later", async () => {
  const nowMs = Date.now();
  const nowS = Math.floor(nowMs / 1000);
  const held = await firstProxy(nowMs);
  const facts = proxyFacts(held, nowS)!;
  const mine = rsaKey();
  const due = dueFor(held, mine.keyPem);
  const later = nowMs + 60_000;
  const good = await renewal(frontendProxy, due, later);

  // The same subject from another CA (trusted or not, it is another end-entity certificate).
  const otherCa = createCA({ subject: "/DC=org/DC=other/CN=Other CA" });
  const twin = issueUserCert(otherCa, { subject: DN.pilot, days: 1 });
  const twinProxy = createProxy({ certChainPem: twin.certPem, keyPem: twin.keyPem, hours: 1 });
  // A second proxy of the frontend's own certificate sits in the chain instead of the signer.
  const [leaf] = pemCertificates(good);
  const second = gridProxy("pilot", join(dir, "second.proxy"));
  const spliced = [leaf!, ...pemCertificates(second)]
    .map((d) => new X509Certificate(d).toString())
    .join("");
  const cases: [string, string, string | undefined][] = [
    ["good", good, undefined],
    ["garbage", "garbage", "not a per-pilot proxy chain"],
    ["unbound", frontendProxy, "not a per-pilot proxy chain"],
    [
      "another binding",
      await renewal(frontendProxy, dueFor(held, mine.keyPem, { entry: "e2" }), later),
      "another binding",
    ],
    [
      "another renew_until",
      await renewal(
        frontendProxy,
        dueFor(held, mine.keyPem, { renewUntil: facts.renewUntil + 3600 }),
        later,
      ),
      "another binding",
    ],
    [
      "another pilot",
      await renewal(frontendProxy, dueFor(held, mine.keyPem, { pilotId: "other" }), later),
      "another binding",
    ],
    [
      "another subject",
      await renewal(otherSubjectProxy, due, later),
      "another end-entity certificate",
    ],
    ["another CA", await renewal(twinProxy, due, later), "another end-entity certificate"],
    [
      "another key",
      await renewal(frontendProxy, dueFor(held, rsaKey().keyPem), later),
      "not for this pilot's key",
    ],
    ["spliced", spliced, "not a chain to the held proxy's end-entity certificate"],
    ["shorter", await renewal(frontendProxy, due, later, 30), "no later than the proxy held"],
  ];
  for (const [name, next, why] of cases) {
    const r = acceptProxyRenewal(facts, next, mine.spkiDer, Math.floor(later / 1000));
    assert.equal("refused" in r ? r.refused : undefined, why, name);
  }
});

test("a pilot takes the renewed proxy for its key from its own frontend's PilotCredential ad, and nothing else", async () => {
  const nowMs = Date.now();
  const held = await firstProxy(nowMs);
  const renewer = createProxyRenewer(held, { frontendIdentity: DN.frontend }, nowMs);
  assert.ok(renewer);
  const attrs = await renewer.slotAttrs();
  const keyPem = renewalKeyPem(JSON.parse(attrs.UpdraftRenewalKey!) as string);
  assert.ok(keyPem);
  const due = dueFor(held, keyPem);
  const reader = collector.as("reader");
  const later = nowMs + 60_000;
  // Another frontend-role writer's ad under the pilot's name, with a chain that passes every
  // check the pilot makes: ignored, as it is not the pilot's frontend's.
  const squatted = await renewPilotCredentials(
    [due],
    {
      sign: proxySigner(frontendProxy, 120),
      collector: collector.as("factory"),
      timeoutMs: 10_000,
      log: silentLog,
    },
    later,
  );
  assert.equal(squatted.size, 1);
  assert.equal(await renewer.check(reader, later), false, "another writer's ad");
  assert.equal(renewer.current(), held);

  const given = await renewPilotCredentials(
    [due],
    {
      sign: proxySigner(frontendProxy, 120),
      collector: collector.as("frontend"),
      timeoutMs: 10_000,
      log: silentLog,
    },
    later,
  );
  assert.equal(given.size, 1);
  assert.equal(await renewer.check(reader, later), true);
  assert.equal(renewer.renewals, 1);
  const now = readCredentialFile(renewer.current());
  const leaf = new X509Certificate(now.chainPem[0]!);
  assert.ok(now.keyPem, "the pilot pairs the certificate with its own key");
  assert.ok(leaf.checkPrivateKey(createPrivateKey(now.keyPem)), "the key is the certificate's");
  assert.equal(
    (await renewer.slotAttrs()).UpdraftCredentialExpiry,
    String(given.get(due.sub)),
    "the slot ad shows the new end",
  );
  assert.equal(await renewer.check(reader, later), false, "the same proxy is not taken twice");
});

test("validation asks a renewable pilot proxy's renew_until, not its end, to cover the walltime", async () => {
  const now = new Date();
  const pem = await firstProxy(now.getTime());
  const s = { credentialFile: "pilot.proxy", credentialPem: pem, credentialMinS: 300 };
  const view = {} as NodeView;
  const renewable = checkCredential(view, { ...s, credentialRenewable: true }, now);
  assert.equal(renewable.ok, true, JSON.stringify(renewable));
  const fixed = checkCredential(view, { ...s, credentialRenewable: false }, now);
  assert.equal(fixed.ok, false, "a proxy of two minutes that nobody renews is refused");
  const short = await firstProxy(now.getTime(), 120, 60);
  const r = checkCredential(view, { ...s, credentialPem: short, credentialRenewable: true }, now);
  assert.equal(r.ok, false, "renew_until too soon for the walltime");
});

test("the frontend signs no proxy past the binding's renew_until", async () => {
  const nowMs = Date.now();
  const held = await firstProxy(nowMs);
  const due = dueFor(held, rsaKey().keyPem);
  const sign = proxySigner(frontendProxy, 120);
  const last = await sign(due, (due.binding.renewUntil - 30) * 1000);
  assert.ok(last.exp <= due.binding.renewUntil, "the last renewal ends at renew_until");
  await assert.rejects(sign(due, (due.binding.renewUntil + 1) * 1000), {
    code: "renewal-ended",
  });
});

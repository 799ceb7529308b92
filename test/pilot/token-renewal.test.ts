/**
 * The pilot's side of token renewal: which renewed tokens it takes (same issuer, sub and binding,
 * later exp, sealed to its own key, written by its own frontend) from PilotCredential ads at a real
 * collector, and when it gives up on a renewal and drains.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCredentialSealer } from "../../src/frontend/credential-seal.js";
import { renewalKeyPem, renewPilotTokens } from "../../src/frontend/pilot-renewal.js";
import { createPilotTokenMinter } from "../../src/frontend/pilot-tokens.js";
import { MAX_PILOT_SCHEDDS, newSchedds } from "../../src/pilot/connect.js";
import { planTurn } from "../../src/pilot/pilot-step.js";
import { planLifetime } from "../../src/pilot/lifetime.js";
import {
  acceptRenewal,
  createTokenRenewer,
  MAX_RENEWAL_SCHEDDS,
  renewalSchedds,
  tokenFacts,
} from "../../src/pilot/token-renewal.js";
import { encryptCredential } from "../../src/security/credential-crypto.js";
import {
  PILOT_BINDING_CLAIM,
  pilotBindingClaim,
  type PilotBinding,
} from "../../src/security/pilot-binding.js";
import {
  initIssuerDir,
  loadIssuer,
  signToken,
  type LoadedIssuer,
} from "../../src/security/token-issuer.js";
import { DN, type Running } from "../collector/harness.js";
import { silentLog, startRenewalCollector } from "../helpers/renewal-pool.js";

const ISS = "https://frontend.example.org/pilots";
const NOW_S = Math.floor(Date.now() / 1000);
const BINDING: PilotBinding = {
  frontend: "fe",
  group: "main",
  entry: "e1",
  factory: "f1",
  pilotId: "abc",
  renewUntil: NOW_S + 3600,
};

let dir: string;
let signer: LoadedIssuer;
let collector: Running;
let stopCollector: () => Promise<void>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "updraft-renewal-unit-"));
  const init = await initIssuerDir(join(dir, "issuer"), ISS);
  assert.ok(init.ok);
  signer = await loadIssuer(join(dir, "issuer"));
  ({ collector, stop: stopCollector } = await startRenewalCollector());
});
after(async () => {
  await stopCollector();
  rmSync(dir, { recursive: true, force: true });
});

const OWN = { frontendIdentity: DN.frontend };

function token(
  o: { sub?: string; binding?: PilotBinding; lifetimeS?: number; nowS?: number } = {},
) {
  return signToken(signer, {
    sub: o.sub ?? "pilot-abc",
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    lifetimeS: o.lifetimeS ?? 120,
    extra: { [PILOT_BINDING_CLAIM]: pilotBindingClaim(o.binding ?? BINDING) },
    now: (o.nowS ?? NOW_S) * 1000,
  });
}

test("tokenFacts reads renew_until only when it is later than exp", async () => {
  assert.equal(tokenFacts(await token())?.renewUntil, NOW_S + 3600);
  const last = await token({ binding: { ...BINDING, renewUntil: NOW_S + 60 } });
  assert.equal(tokenFacts(last)?.renewUntil, undefined);
  assert.equal(tokenFacts("not.a.token"), undefined);
});

test("a renewal is taken only with the same issuer, sub and binding and a later exp", async () => {
  const held = tokenFacts(await token())!;
  const other = await initIssuerDir(join(dir, "other"), "https://other.example.org/");
  assert.ok(other.ok);
  const foreign = await signToken(await loadIssuer(join(dir, "other")), {
    sub: "pilot-abc",
    audiences: ["x"],
    lifetimeS: 300,
    extra: { [PILOT_BINDING_CLAIM]: pilotBindingClaim(BINDING) },
  });
  const later = NOW_S + 60;
  const cases: [string, string, string | undefined][] = [
    ["good", await token({ nowS: later }), undefined],
    ["garbage", "garbage", "not a token"],
    ["issuer", foreign, "another issuer"],
    ["sub", await token({ sub: "pilot-xyz", nowS: later }), "another sub"],
    [
      "binding",
      await token({ binding: { ...BINDING, entry: "e2" }, nowS: later }),
      "another binding",
    ],
    [
      "renew_until",
      await token({ binding: { ...BINDING, renewUntil: NOW_S + 9999 }, nowS: later }),
      "another binding",
    ],
    ["earlier", await token({ lifetimeS: 60 }), "no later than the token held"],
    ["future", await token({ nowS: NOW_S + 600 }), "issued in the future"],
  ];
  for (const [name, next, why] of cases) {
    assert.equal(acceptRenewal(held, next, NOW_S), why, name);
  }
  assert.equal(
    acceptRenewal(held, await token({ nowS: NOW_S - 600, lifetimeS: 590 }), NOW_S),
    "no later than the token held",
  );
});

test("a pilot takes the renewed token sealed to its key from its PilotCredential ad, and nothing else", async () => {
  const sub = "pilot-abc";
  const first = await token();
  const renewer = createTokenRenewer(first, OWN);
  assert.ok(renewer);
  const attrs = await renewer.slotAttrs();
  assert.equal(attrs.UpdraftCredentialExpiry, String(NOW_S + 120));
  const keyPem = renewalKeyPem(JSON.parse(attrs.UpdraftRenewalKey!) as string);
  assert.ok(keyPem, "the advertised key is an RSA key of 2048 bits");
  const reader = collector.as("reader");
  const publish = async (sealed: string, notAfter: number) => {
    const [o] = await collector.as("frontend").advertise(
      [
        {
          MyType: '"PilotCredential"',
          Name: `"${sub}"`,
          UpdraftSealedToken: JSON.stringify(sealed),
          UpdraftTokenNotAfter: String(notAfter),
        },
      ],
      "PilotCredential",
    );
    assert.ok(o?.ok, JSON.stringify(o));
  };
  const nowMs = (NOW_S + 70) * 1000;
  assert.equal(await renewer.check(reader, nowMs), false, "no ad yet");

  const { publicKey: stranger } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const next = await token({ nowS: NOW_S + 70 });
  await publish(encryptCredential(next, stranger), NOW_S + 190);
  assert.equal(await renewer.check(reader, nowMs), false, "sealed to another key");
  await publish(
    encryptCredential(await token({ sub: "pilot-xyz", nowS: NOW_S + 70 }), keyPem),
    NOW_S + 190,
  );
  assert.equal(await renewer.check(reader, nowMs), false, "another sub");
  await publish("updraft-cred:v1:garbage", NOW_S + 190);
  assert.equal(await renewer.check(reader, nowMs), false, "damaged");
  assert.equal(renewer.current(), first);
  assert.equal(renewer.renewals, 0);

  await publish(encryptCredential(next, keyPem), NOW_S + 190);
  assert.equal(await renewer.check(reader, nowMs), true);
  assert.equal(renewer.current(), next);
  assert.equal(renewer.renewals, 1);
  assert.equal((await renewer.slotAttrs()).UpdraftCredentialExpiry, String(NOW_S + 190));
  assert.equal(await renewer.check(reader, nowMs), false, "the same token is not taken twice");
});

test("only a token that carries renew_until gets a renewer", async () => {
  const plain = await signToken(signer, { sub: "pilot-abc", audiences: ["x"], lifetimeS: 60 });
  assert.equal(createTokenRenewer(plain, OWN), undefined);
  assert.equal(createTokenRenewer("-----BEGIN CERTIFICATE-----", OWN), undefined);
});

test("without a renewal in the last eighth of its life the pilot drains before the token ends", async () => {
  const renewer = createTokenRenewer(await token(), OWN);
  assert.ok(renewer);
  const exp = (NOW_S + 120) * 1000;
  assert.equal(renewer.giveUpAt(exp - 60_000), undefined);
  assert.equal(renewer.giveUpAt(exp - 10_000), exp);

  const startMs = NOW_S * 1000;
  const plan = planLifetime(
    { maxWalltimeS: 600, graceS: 30 },
    startMs,
    () => 0,
    (NOW_S + 3600) * 1000,
  );
  const nowMs = exp - 10_000;
  const turn = planTurn({
    plan,
    nowMs,
    runningJobs: 1,
    credentialEndMs: renewer.giveUpAt(nowMs),
    graceMs: 30_000,
    advertisedRetired: false,
    advertisedBlackHole: false,
  });
  assert.equal(turn.plan.drainReason, "credential");
  assert.equal(turn.drainingFor, exp);
  assert.equal(turn.verdict.stopJobs, true, "jobs are handed back before the token ends");
  assert.equal(turn.stopReason, "pilot credential about to expire");
});

test("another frontend cannot squat a pilot's PilotCredential name nor pass it a token, before or after its own frontend writes", async () => {
  const binding = { ...BINDING, pilotId: "squat" };
  const sub = "pilot-squat";
  const first = await token({ sub, binding });
  const renewer = createTokenRenewer(first, OWN);
  assert.ok(renewer);
  const keyPem = renewalKeyPem(
    JSON.parse((await renewer.slotAttrs()).UpdraftRenewalKey!) as string,
  )!;
  const reader = collector.as("reader");
  const nowMs = (NOW_S + 70) * 1000;
  const write = async (who: "frontend" | "factory", sealed: string, notAfter: number) => {
    const [o] = await collector.as(who).advertise(
      [
        {
          MyType: '"PilotCredential"',
          Name: `"${sub}"`,
          UpdraftSealedToken: JSON.stringify(sealed),
          UpdraftTokenNotAfter: String(notAfter),
        },
      ],
      "PilotCredential",
    );
    assert.ok(o?.ok, `${who}: ${JSON.stringify(o)}`);
  };
  // The other frontend writes first: a token that passes every check the pilot can make itself
  // (issuer, sub, binding, later exp) but is signed by a key of its own choosing.
  const rogueDir = join(dir, "rogue");
  assert.ok((await initIssuerDir(rogueDir, ISS)).ok);
  const rogue = await signToken(await loadIssuer(rogueDir), {
    sub,
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    lifetimeS: 600,
    extra: { [PILOT_BINDING_CLAIM]: pilotBindingClaim(binding) },
    now: (NOW_S + 70) * 1000,
  });
  assert.equal(acceptRenewal(tokenFacts(first)!, rogue, NOW_S + 70), undefined);
  await write("factory", encryptCredential(rogue, keyPem), NOW_S + 670);
  assert.equal(await renewer.check(reader, nowMs), false, "another writer's ad is not read");
  assert.equal(renewer.current(), first);

  // The real frontend writes after it and still reaches the pilot.
  const real = await token({ sub, binding, nowS: NOW_S + 70 });
  await write("frontend", encryptCredential(real, keyPem), NOW_S + 190);
  const held = await reader.query({ type: "PilotCredential", constraint: `Name == "${sub}"` });
  assert.equal(held.length, 2, "both writers hold their own ad of the name");
  assert.equal(await renewer.check(reader, nowMs), true);
  assert.equal(renewer.current(), real);

  // And once more the other way round: the squatter writes after the real renewal.
  const rogue2 = await signToken(await loadIssuer(rogueDir), {
    sub,
    audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
    lifetimeS: 900,
    extra: { [PILOT_BINDING_CLAIM]: pilotBindingClaim(binding) },
    now: (NOW_S + 80) * 1000,
  });
  await write("factory", encryptCredential(rogue2, keyPem), NOW_S + 980);
  assert.equal(await renewer.check(reader, nowMs + 10_000), false);
  const real2 = await token({ sub, binding, nowS: NOW_S + 150 });
  await write("frontend", encryptCredential(real2, keyPem), NOW_S + 270);
  assert.equal(await renewer.check(reader, (NOW_S + 150) * 1000), true);
  assert.equal(renewer.current(), real2);
  assert.equal(renewer.renewals, 2);
});

test("a renewal from the frontend names its group's schedds, and the pilot takes those its new token is signed for", async () => {
  const scheddA = "wss://schedd-a.example.org:9619/";
  const scheddB = "wss://schedd-b.example.org:9619/";
  // The frontend's minter signs for the schedds found this cycle (b since the pilot's submission).
  const minter = await createPilotTokenMinter(
    { dir: join(dir, "issuer"), lifetime_s: 600, batch_max: 100, audiences: [] },
    ["wss://collector.example.org:9618/", scheddA, scheddB],
    3600,
  );
  const found: string[][] = [];
  const first = await token();
  const renewer = createTokenRenewer(first, { ...OWN, onSchedds: (u) => found.push(u) });
  assert.ok(renewer);
  const keyPem = renewalKeyPem(
    JSON.parse((await renewer.slotAttrs()).UpdraftRenewalKey!) as string,
  )!;
  const nowMs = (NOW_S + 70) * 1000;
  const given = await renewPilotTokens(
    [
      {
        sub: "pilot-abc",
        binding: { ...BINDING, pilotId: "abc", renewUntil: NOW_S + 3600 },
        keyPem,
      },
    ],
    {
      minter,
      sealer: createCredentialSealer(),
      collector: collector.as("frontend"),
      timeoutMs: 10_000,
      log: silentLog,
      // The group's schedds, and one the token is not signed for (a list gone wrong).
      scheddsFor: (group) =>
        group === "main" ? [scheddA, scheddB, "wss://unsigned.example.org/"] : [],
    },
    nowMs,
  );
  assert.equal(given.size, 1);
  assert.equal(await renewer.check(collector.as("reader"), nowMs), true);
  assert.deepEqual(found, [[scheddA, scheddB]], "the group's schedds its token names");
});

test("a renewal's schedd list keeps only wss:// URLs the token's audience names, each once, and a pilot adds only new ones within its bound", () => {
  const aud = ["wss://a.example.org/", "wss://b.example.org/", "https://c.example.org/"];
  const list = (urls: string[]) => JSON.stringify(urls.join(","));
  assert.deepEqual(
    renewalSchedds(
      list([
        "wss://a.example.org/",
        " wss://b.example.org/",
        "wss://a.example.org/",
        "https://c.example.org/",
        "wss://x.example.org/",
        "garbage",
      ]),
      aud,
    ),
    ["wss://a.example.org/", "wss://b.example.org/"],
  );
  assert.deepEqual(renewalSchedds(undefined, aud), []);
  assert.deepEqual(renewalSchedds("wss://a.example.org/", aud), [], "not a ClassAd string");
  assert.deepEqual(renewalSchedds("42", aud), []);
  const many = Array.from({ length: 200 }, (_, i) => `wss://s${i}.example.org/`);
  assert.equal(renewalSchedds(list(many), many).length, MAX_RENEWAL_SCHEDDS);

  assert.deepEqual(newSchedds(["wss://a/"], ["wss://a/", "wss://b/", "wss://b/"]), ["wss://b/"]);
  const known = Array.from({ length: MAX_PILOT_SCHEDDS - 1 }, (_, i) => `wss://k${i}/`);
  assert.deepEqual(newSchedds(known, ["wss://x/", "wss://y/"]), ["wss://x/"], "at most 64 in all");
});

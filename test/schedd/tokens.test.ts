/**
 * Bearer tokens at a real schedd configured with a `tokens` block: each WLCG compute scope allows
 * exactly its methods, the job's Owner comes from `sub`, authorization rules read the issuer and
 * `wlcg.groups`, hostile tokens are refused naming the check, and a connection closes when its
 * token expires.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createHmac } from "node:crypto";
import { generateKeyPair, SignJWT } from "jose";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";
import { createRpcClient } from "../../src/wire/index.js";
import { DN, codeOf, job, reasonOf, startEnv, submit, type TestEnv } from "./harness.js";

const ISS = "https://tokens.pool.example.org";
const AUD = "https://schedd.pool.example.org";
let env: TestEnv;
let issuerDir: string;
const opened: ScheddClient[] = [];

before(async () => {
  issuerDir = mkdtempSync(join(tmpdir(), "updraft-issuer-"));
  const init = await initIssuerDir(issuerDir, ISS);
  assert.ok(init.ok);
  env = await startEnv({
    extra: {
      public_url: AUD,
      tokens: { issuers: [{ issuer: ISS, jwks_file: init.dir.jwksFile }], leeway_s: 0 },
      authorization: {
        rules: [
          { identity: DN.alice, roles: ["user"] },
          { issuer: ISS, group: "/vo/users", roles: ["user"] },
          { issuer: ISS, sub: "pilot-*", group: "/vo/pilots", roles: ["pilot"] },
        ],
        default_roles: [],
      },
    },
  });
});
after(async () => {
  for (const c of opened) await c.rpc.close();
  await env.close();
  rmSync(issuerDir, { recursive: true, force: true });
});

/**
 * A client with `token`. Given as a string, the client itself stops at the token's `exp`; given
 * as a function (as a renewing holder, or a hostile client, passes it) it sends whatever it has.
 */
function tokenClient(token: string | (() => string)): ScheddClient {
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

const issue = (o: { sub?: string; scope?: string; groups?: string[]; lifetimeS?: number }) =>
  issueToken(issuerDir, {
    sub: o.sub ?? "Carol.T",
    audiences: [AUD],
    scope: o.scope ?? "",
    groups: o.groups ?? ["/vo", "/vo/users"],
    lifetimeS: o.lifetimeS ?? 600,
  });

/** Resolves to "ok", or the refusal's code with "/scope" when a scope was missing. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return reasonOf(err) === "scope" ? `${codeOf(err)}/scope` : String(codeOf(err));
  }
}

test("each compute scope allows exactly its methods; the Owner is the token's sub", async () => {
  const all = tokenClient(
    await issue({ scope: "compute.read compute.create compute.modify compute.cancel" }),
  );
  const c = await submit(all, [job(), job(), job()]);
  const [ad] = await all.query({ ids: [`${c}.0`] });
  assert.equal(ad!.Owner, '"carol.t"');

  const denied = "permission-denied/scope";
  const table: [string, Record<string, string>][] = [
    [
      "compute.read",
      { query: "ok", history: "ok", submit: denied, hold: denied, edit: denied, rm: denied },
    ],
    [
      "compute.create",
      { query: denied, history: denied, submit: "ok", hold: denied, edit: denied, rm: denied },
    ],
    [
      "compute.modify",
      { query: denied, history: denied, submit: denied, hold: "ok", edit: "ok", rm: denied },
    ],
    [
      "compute.cancel",
      { query: denied, history: denied, submit: denied, hold: denied, edit: denied, rm: "ok" },
    ],
    [
      "",
      { query: denied, history: denied, submit: denied, hold: denied, edit: denied, rm: denied },
    ],
  ];
  let proc = 0;
  for (const [scope, want] of table) {
    const t = tokenClient(await issue({ scope }));
    const id = `${c}.${proc}`;
    const got = {
      query: await outcome(t.query({ ids: [String(c)] })),
      history: await outcome(t.query({ history: true })),
      submit: await outcome(t.newCluster()),
      hold: await outcome(t.act("hold", { ids: [id] })),
      edit: await outcome(t.edit({ ids: [id] }, "JobPrio", "5")),
      rm: await outcome(t.act("remove", { ids: [id] })),
    };
    assert.deepEqual(got, want, `scope "${scope}"`);
    if (scope === "compute.cancel") proc++;
  }
  // The modify token held job .0 and the cancel token removed it: the queue shows both.
  const [hist] = await all.query({ ids: [`${c}.0`], history: true });
  assert.equal(hist!.JobStatus, "3");
  assert.equal(hist!.JobPrio, "5");
});

test("a scope refusal names the scope; uploads need create and downloads need read", async () => {
  const reader = tokenClient(await issue({ scope: "compute.read" }));
  await assert.rejects(reader.newCluster(), (err: Error) => {
    assert.equal(codeOf(err), "permission-denied");
    assert.match(err.message, /needs the compute\.create scope/);
    return true;
  });
  const chunk = {
    jobId: "1.0",
    name: "in.txt",
    offset: 0,
    data: new Uint8Array(1),
    last: true,
    sha256: "",
    leaseId: "",
  };
  assert.equal(await outcome(reader.putInput(chunk)), "permission-denied/scope");
  const creator = tokenClient(await issue({ scope: "compute.create" }));
  const drain = async () => {
    for await (const _ of creator.fetchOutput("1.0"));
  };
  assert.equal(await outcome(drain()), "permission-denied/scope");
});

test("roles come from rules on issuer, sub and wlcg.groups", async () => {
  // In /vo only: no rule gives a role, and the default is none.
  const outsider = tokenClient(await issue({ scope: "compute.read", groups: ["/vo"] }));
  await assert.rejects(outsider.query({}), (err: Error) => {
    assert.equal(codeOf(err), "permission-denied");
    assert.match(err.message, new RegExp(`'${ISS}#Carol\\.T' has no role here`));
    return true;
  });
  // The pilot rule needs both the sub pattern and the group.
  const pilot = tokenClient(await issue({ sub: "pilot-7", groups: ["/vo/pilots"] }));
  assert.equal(await outcome(pilot.claimJob({ Cpus: "1" }, 0)), "ok");
  const notPilot = tokenClient(await issue({ sub: "carol", groups: ["/vo/pilots"] }));
  assert.equal(await outcome(notPilot.claimJob({ Cpus: "1" }, 0)), "permission-denied");
});

test("hostile tokens are refused at the schedd, which counts the check and names it to the client", async () => {
  const good = await issue({ scope: "compute.read" });
  const [h, p, sig] = good.split(".");
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
  const header = JSON.parse(Buffer.from(h!, "base64url").toString()) as {
    alg: string;
    kid: string;
  };
  const hsInput = `${b64({ alg: "HS256" })}.${p}`;
  const jwks = readFileSync(join(issuerDir, "jwks.json"), "utf8");
  const foreign = await generateKeyPair("ES256");
  const signWith = (kid: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: header.alg, kid }).sign(foreign.privateKey);
  const cases: [string, string, string][] = [
    ["expired", await issue({ lifetimeS: -120 }), "expired"],
    [
      "not yet valid",
      await issueToken(issuerDir, {
        sub: "Carol.T",
        audiences: [AUD],
        scope: "compute.read",
        groups: ["/vo/users"],
        lifetimeS: 600,
        now: Date.now() + 3_600_000,
      }),
      "not-yet-valid",
    ],
    ["unknown kid", await signWith("no-such-kid"), "unknown-key"],
    ["a foreign key under the issuer's kid", await signWith(header.kid), "signature"],
    ["oversized", `${h}.${"A".repeat(9000)}.${sig}`, "size"],
    ["wrong audience", await issueWithAud("https://other.example.org"), "audience"],
    [
      "wrong issuer",
      `${h}.${b64({ ...claims, iss: "https://evil.example.org" })}.${sig}`,
      "issuer",
    ],
    ["alg none", `${b64({ alg: "none" })}.${p}.`, "algorithm"],
    [
      "HS256 keyed with the public keys",
      `${hsInput}.${createHmac("sha256", jwks).update(hsInput).digest("base64url")}`,
      "algorithm",
    ],
    ["payload changed", `${h}.${b64({ ...claims, sub: "root" })}.${sig}`, "signature"],
    ["garbage", "not.a.token", "malformed"],
  ];
  for (const [name, token, check] of cases) {
    // Sent as a hostile client would, without the client's own check of the token's exp.
    const t = tokenClient(() => token);
    const before = await refusedFor(`token-${check}`);
    await assert.rejects(t.query({}), (err: Error) => {
      assert.equal(codeOf(err), "unauthenticated", name);
      // The holder is told which check failed (the schedd's challenge); the schedd counts it.
      assert.match(
        err.message,
        new RegExp(`bearer token was not accepted \\(check: ${check}\\)`),
        `${name}: ${err.message}`,
      );
      assert.ok(!err.message.includes(token.slice(-12)), `${name} echoed the token`);
      return true;
    });
    assert.ok((await refusedFor(`token-${check}`)) > before, `${name}: counted as ${check}`);
    await t.rpc.close();
  }
  // The twelfth: a valid token without the scope the call needs is refused by the call, naming it.
  const noScope = tokenClient(await issue({ scope: "" }));
  await assert.rejects(noScope.query({}), (err: Error) => {
    assert.equal(codeOf(err), "permission-denied");
    assert.match(err.message, /needs the compute\.read scope/);
    return true;
  });
  assert.equal(await outcome(tokenClient(good).query({})), "ok");
});

/** How many connections the schedd refused for `cause`, from its own metrics. */
async function refusedFor(cause: string): Promise<number> {
  const m = await env.schedd.metrics.getSingleMetric("updraft_refused_connections_total")!.get();
  return m.values.find((v) => v.labels.cause === cause)?.value ?? 0;
}

async function issueWithAud(aud: string): Promise<string> {
  return issueToken(issuerDir, {
    sub: "Carol.T",
    audiences: [aud],
    scope: "compute.read",
    groups: ["/vo/users"],
    lifetimeS: 600,
  });
}

test("a connection closes when its token expires", async () => {
  const token = await issue({ scope: "compute.read", lifetimeS: 3 });
  const t = tokenClient(token);
  assert.equal(await outcome(t.query({})), "ok");
  const closed = new Promise<string>((resolve) => {
    const off = t.rpc.onStatus((s) => {
      if (s.type === "disconnected") {
        off();
        resolve(`${s.error?.code}: ${s.error?.message}`);
      }
    });
  });
  assert.match(await closed, /^unauthenticated: client credential expired/);
  // The client knows its token's exp: it does not reconnect with it, and says what to do.
  const before = await refusedFor("token-expired");
  await assert.rejects(
    t.query({}, { deadlineMs: 5_000 }),
    /your credential expired at .*get a new token/,
  );
  assert.equal(await refusedFor("token-expired"), before, "no connection was tried");
  // One that sends it anyway is refused as expired (no loop of accept and close).
  const stale = tokenClient(() => token);
  await assert.rejects(
    stale.query({}, { deadlineMs: 5_000 }),
    /bearer token was not accepted \(check: expired\)/,
  );
  assert.ok((await refusedFor("token-expired")) > before);
});

/**
 * The shared `tokens` block and token authorization rules as a daemon's YAML sees them: what is
 * accepted, what is refused with which message, and what the verifier built from it trusts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseConfig } from "../../src/common/config.js";
import { hasErrorCode } from "../../src/common/errors.js";
import { tokensConfigSchema, tokenVerifierFromConfig } from "../../src/common/tokens-config.js";
import { scheddConfigSchema } from "../../src/schedd/config.js";
import { authzConfigSchema, createAuthorizer } from "../../src/security/authz.js";
import { initIssuerDir, issueToken } from "../../src/security/token-issuer.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-tokens-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const problems = (schema: Parameters<typeof parseConfig>[0], yaml: string): string => {
  try {
    parseConfig(schema, yaml, "t.yaml");
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

test("a tokens block gets its defaults; issuers must be https and listed once", () => {
  const t = parseConfig(
    tokensConfigSchema,
    "issuers: [{ issuer: https://iam.example.org/ }]\n",
    "t",
  );
  assert.deepEqual(
    { ...t },
    {
      issuers: [{ issuer: "https://iam.example.org/" }],
      audiences: [],
      accept_any_audience: false,
      leeway_s: 60,
      max_token_bytes: 8192,
    },
  );
  assert.match(problems(tokensConfigSchema, "issuers: []\n"), /at least one trusted issuer/);
  assert.match(
    problems(tokensConfigSchema, "issuers: [{ issuer: http://iam.example.org/ }]\n"),
    /issuers\[0\]\.issuer.*https URL/,
  );
  assert.match(
    problems(
      tokensConfigSchema,
      "issuers: [{ issuer: https://a.example/ }, { issuer: https://a.example/ }]\n",
    ),
    /issuers\[1\]\.issuer.*listed twice/,
  );
  assert.match(
    problems(tokensConfigSchema, "issuers: [{ issuer: https://a.example/, jwks: x }]\n"),
    /issuers\[0\]\.jwks.*unknown key/,
  );
  assert.match(
    problems(tokensConfigSchema, "issuers: [{ issuer: https://a.example/ }]\nleeway_s: 3600\n"),
    /leeway_s/,
  );
  assert.match(
    problems(tokensConfigSchema, 'issuers: [{ issuer: "https://a.example/x#y" }]\n'),
    /issuers\[0\]\.issuer.*no '#'/,
  );
});

test("a daemon refuses a tokens block with no audience or a broken jwks_file at start", () => {
  const cfg = (extra: string) =>
    parseConfig(tokensConfigSchema, `issuers: [{ issuer: https://a.example/${extra} }]\n`, "t");
  assert.throws(() => tokenVerifierFromConfig(cfg("")), /no audience names this daemon/);
  assert.ok(tokenVerifierFromConfig(cfg(""), ["https://schedd.example"]));
  const bad = join(dir, "bad-jwks.json");
  writeFileSync(bad, '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}');
  assert.throws(
    () => tokenVerifierFromConfig(cfg(`, jwks_file: ${bad}`), ["x"]),
    /tokens\.issuers\[0\]\.jwks_file: .*bad-jwks\.json: it holds no public key/,
  );
  assert.throws(
    () => tokenVerifierFromConfig(cfg(`, jwks_file: ${join(dir, "missing.json")}`), ["x"]),
    (err: unknown) =>
      hasErrorCode(err, "config-invalid") &&
      /tokens\.issuers\[0\]\.jwks_file: .*missing\.json: ENOENT/.test(err.message),
  );
});

test("authorization rules name an identity or a token issuer, with sub, group and scope", () => {
  const yaml = (rule: string) => `rules:\n  - ${rule}\n`;
  assert.equal(problems(authzConfigSchema, yaml("{ identity: /DC=org/CN=x, roles: [user] }")), "");
  assert.equal(
    problems(authzConfigSchema, yaml("{ identity: 'https://a.example#bob', roles: [user] }")),
    "",
  );
  assert.equal(
    problems(
      authzConfigSchema,
      yaml(
        "{ issuer: https://a.example, sub: 'p-*', group: /vo, scope: compute.read, roles: [pilot] }",
      ),
    ),
    "",
  );
  assert.match(
    problems(
      authzConfigSchema,
      yaml("{ identity: /DC=x, issuer: https://a.example, roles: [user] }"),
    ),
    /either an identity or a token issuer/,
  );
  assert.match(
    problems(authzConfigSchema, yaml("{ identity: /DC=x, group: /vo, roles: [user] }")),
    /sub, group and scope go with issuer/,
  );
  assert.match(
    problems(authzConfigSchema, yaml("{ issuer: http://a.example, roles: [user] }")),
    /https URL/,
  );
});

test("token rules match issuer, sub pattern, group and scope together; DN rules never match a token by accident", () => {
  const a = createAuthorizer({
    rules: [
      { identity: "/DC=org/*", roles: ["user"] },
      { issuer: "https://a.example", sub: "pilot-*", group: "/vo/pilots", roles: ["pilot"] },
      { issuer: "https://a.example", scope: "compute.read", roles: ["read"] },
    ],
    default_roles: [],
  });
  const facts = (sub: string, groups: string[], scopes: string[]) => ({
    issuer: "https://a.example",
    sub,
    groups,
    scopes,
  });
  const roles = (sub: string, groups: string[], scopes: string[] = []) => [
    ...a.rolesFor(`https://a.example#${sub}`, facts(sub, groups, scopes)),
  ];
  assert.deepEqual(roles("pilot-1", ["/vo/pilots"]), ["pilot"]);
  assert.deepEqual(roles("pilot-1", ["/vo"]), []);
  assert.deepEqual(roles("alice", ["/vo/pilots"]), []);
  assert.deepEqual(roles("alice", [], ["compute.read:/data"]), ["read"]);
  // A token whose sub looks like a DN does not match the DN rule.
  assert.deepEqual(roles("/DC=org/CN=Alice", []), []);
  // Another issuer with the same claims matches nothing.
  assert.deepEqual(
    [
      ...a.rolesFor("https://b.example#pilot-1", {
        ...facts("pilot-1", ["/vo/pilots"], []),
        issuer: "https://b.example",
      }),
    ],
    [],
  );
  // A certificate identity never matches a token rule.
  assert.deepEqual([...a.rolesFor("/DC=org/CN=Alice")], ["user"]);
});

test("the schedd's config takes a tokens block", () => {
  const base = {
    listen: { port: 0 },
    tls: { cert_file: "c", key_file: "k", trust_dir: "t" },
    state_dir: "s",
    authorization: { rules: [] },
  };
  const cfg = scheddConfigSchema.parse({
    ...base,
    tokens: { issuers: [{ issuer: "https://a.example/" }], accept_any_audience: true },
  });
  assert.equal(cfg.tokens?.accept_any_audience, true);
  assert.equal(scheddConfigSchema.parse(base).tokens, undefined);
});

test("the schedd refuses a message limit its connections' byte budget could never carry", () => {
  const base = {
    listen: { port: 0 },
    tls: { cert_file: "c", key_file: "k", trust_dir: "t" },
    state_dir: "s",
    authorization: { rules: [] },
  };
  const r = scheddConfigSchema.safeParse({ ...base, max_message_mb: 64 });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /raise connections.max_bytes_in_flight_mb/);
  const raised = { ...base, max_message_mb: 64, connections: { max_bytes_in_flight_mb: 64 } };
  assert.equal(scheddConfigSchema.parse(raised).max_message_mb, 64);
});

test("a verifier built from the block accepts the issuer's token for a configured audience", async () => {
  const idir = join(dir, "issuer");
  const init = await initIssuerDir(idir, "https://a.example/");
  assert.ok(init.ok);
  const cfg = parseConfig(
    tokensConfigSchema,
    `issuers: [{ issuer: "https://a.example/", jwks_file: ${init.dir.jwksFile} }]\naudiences: [https://s.example]\n`,
    "t",
  );
  const v = tokenVerifierFromConfig(cfg);
  const ok = await v.verify(
    await issueToken(idir, { sub: "u", audiences: ["https://s.example"], lifetimeS: 60 }),
  );
  assert.ok(ok.ok);
  const any = await v.verify(
    await issueToken(idir, {
      sub: "u",
      audiences: ["https://wlcg.cern.ch/jwt/v1/any"],
      lifetimeS: 60,
    }),
  );
  assert.equal(any.ok ? "ok" : any.code, "audience");
});

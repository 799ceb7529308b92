/** Identity-to-role maps: exact DNs, `*` patterns, the default for unknown identities, config shape. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { authzConfigSchema, createAuthorizer } from "../../src/security/authz.js";

const YAML = `
rules:
  - identity: /DC=org/DC=example/CN=Alice
    roles: [user, admin]
  - identity: /DC=org/DC=example/CN=host/*
    roles: [daemon]
  - identity: /DC=org/DC=example/OU=Pilots/*
    roles: [pilot]
  - identity: "**"
    roles: [read]
default_roles: []
`;

test("exact identities and patterns map to roles, and matching rules add up", () => {
  const cfg = authzConfigSchema.parse(parse(YAML));
  const authz = createAuthorizer(cfg);
  assert.deepEqual([...authz.rolesFor("/DC=org/DC=example/CN=Alice")].sort(), [
    "admin",
    "read",
    "user",
  ]);
  assert.deepEqual([...authz.rolesFor("/DC=org/DC=example/CN=host/ce1.example.org")].sort(), [
    "daemon",
    "read",
  ]);
  assert.deepEqual([...authz.rolesFor("/DC=org/DC=example/OU=Pilots/CN=glidein 7")].sort(), [
    "pilot",
    "read",
  ]);
  assert.ok(authz.allows("/DC=org/DC=example/CN=Alice", ["admin"]));
  assert.ok(!authz.allows("/DC=org/DC=example/CN=Bob", ["user", "admin"]));
});

test("an identity no rule names gets read only, unless configured otherwise", () => {
  const authz = createAuthorizer({ rules: [{ identity: "/DC=org/CN=Admin", roles: ["admin"] }] });
  assert.deepEqual([...authz.rolesFor("/DC=org/CN=Stranger")], ["read"]);
  const none = createAuthorizer({ rules: [], default_roles: [] });
  assert.equal(none.rolesFor("/DC=org/CN=Stranger").size, 0);
  assert.ok(!none.allows("/DC=org/CN=Stranger", ["read"]));
});

test("patterns treat regular-expression characters literally and match whole DNs", () => {
  const authz = createAuthorizer({
    rules: [{ identity: "/DC=org/CN=a.b (x)+*", roles: ["frontend"] }],
    default_roles: [],
  });
  assert.ok(authz.rolesFor("/DC=org/CN=a.b (x)+ anything").has("frontend"));
  assert.equal(authz.rolesFor("/DC=org/CN=aXb (x)+").size, 0);
  assert.equal(authz.rolesFor("/X/DC=org/CN=a.b (x)+").size, 0);
});

test("a wrong role or a malformed rule fails config validation with its path", () => {
  const bad = authzConfigSchema.safeParse({ rules: [{ identity: "/CN=x", roles: ["root"] }] });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues[0].path, ["rules", 0, "roles", 0]);
  const extra = authzConfigSchema.safeParse({ rules: [], typo: true });
  assert.ok(!extra.success);
  assert.throws(
    () => createAuthorizer({ rules: [{ identity: "/CN=x", roles: ["root" as "read"] }] }),
    /unknown role "root"/,
  );
});

test("a * in a rule stops at /, so a DN with an appended CN does not match; ** spans", () => {
  const authz = createAuthorizer({
    rules: [
      { identity: "/DC=org/DC=example/OU=Users/CN=*", roles: ["user"] },
      { identity: "/DC=org/DC=example/OU=Pilots/**", roles: ["pilot"] },
    ],
    default_roles: [],
  });
  assert.ok(authz.rolesFor("/DC=org/DC=example/OU=Users/CN=alice").has("user"));
  assert.equal(authz.rolesFor("/DC=org/DC=example/OU=Users/CN=mallory/CN=alice").size, 0);
  assert.equal(authz.rolesFor("/DC=org/DC=example/OU=Users/CN=x\\/CN=alice").size, 0);
  assert.ok(authz.rolesFor("/DC=org/DC=example/OU=Pilots/OU=site/CN=p1").has("pilot"));
});

test("a lone * is refused in configuration, with ** named as the way to match everyone", () => {
  const r = authzConfigSchema.safeParse({ rules: [{ identity: "*", roles: ["read"] }] });
  assert.ok(!r.success);
  assert.match(JSON.stringify(r.error.issues), /\*\* for all/);
});

test("scopesGranting names the scopes of the token rules a token meets in all but scope", () => {
  const iss = "https://iam.example.org";
  const authz = createAuthorizer({
    rules: [
      { issuer: iss, group: "/vo", scope: "compute.read", roles: ["user"] },
      { issuer: iss, group: "/vo", scope: "compute.create", roles: ["user"] },
      { issuer: iss, sub: "pilot-*", scope: "updraft.pilot", roles: ["pilot"] },
      { issuer: "https://other.example.org", scope: "compute.cancel", roles: ["user"] },
      { identity: "/DC=org/CN=x", roles: ["user"] },
    ],
    default_roles: [],
  });
  const facts = { issuer: iss, sub: "alice", groups: ["/vo"], scopes: ["storage.read:/"] };
  assert.equal(authz.rolesFor(`${iss}#alice`, facts).size, 0);
  assert.deepEqual(authz.scopesGranting(facts), ["compute.read", "compute.create"]);
  assert.deepEqual(authz.scopesGranting({ ...facts, groups: [] }), []);
  assert.deepEqual(authz.scopesGranting({ ...facts, sub: "pilot-7", groups: [] }), [
    "updraft.pilot",
  ]);
});

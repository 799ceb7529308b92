/**
 * CA namespace files as Globus and EUGridPMA write them, and as an attacker might: what is
 * permitted, what is denied, and which files are refused whole.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MAX_POLICY_FILE_BYTES,
  buildNamespaceIndex,
  parseNamespaces,
  parseSigningPolicy,
  type PolicyFile,
} from "../../src/security/ca-policy.js";
import { compileGlob, compileNamespaceRegex, matchesDn } from "../../src/security/dn-pattern.js";

const CERN = "/DC=ch/DC=cern/CN=CERN Grid Certification Authority";

const SIGNING_POLICY = `# EACL for the CERN Grid CA
access_id_CA      X509         '${CERN}'
pos_rights        globus        CA:sign
cond_subjects     globus       '"/DC=ch/DC=cern/*" "/C=CH/O=CERN/*"'
`;

const NAMESPACES = `#NAMESPACES-VERSION: 1.0
# CERN Grid CA
TO Issuer "${CERN}" \\
  PERMIT Subject "/DC=ch/DC=cern/.*"
TO Issuer SELF DENY Subject "/DC=ch/DC=cern/OU=Robots/.*"
`;

const index = (files: Omit<PolicyFile, "hash">[], problems: string[] = []) =>
  buildNamespaceIndex(
    files.map((f) => ({ ...f, hash: "abcd0123" })),
    new Map([["abcd0123", [CERN]]]),
    problems,
  );
const issuer = { subject: CERN, hash: "abcd0123" };

test("a signing policy permits its globs, case-insensitively, and nothing else", () => {
  const ns = index([{ kind: "signing_policy", data: SIGNING_POLICY, source: "sp" }]);
  assert.ok(ns.check(issuer, "/DC=ch/DC=cern/OU=Users/CN=alice").ok);
  assert.ok(ns.check(issuer, "/dc=CH/dc=CERN/CN=bob").ok);
  assert.ok(ns.check(issuer, "/C=CH/O=CERN/CN=carol").ok);
  const out = ns.check(issuer, "/DC=org/DC=example/CN=alice");
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.reason : "", /outside the namespace of .*CERN Grid/);
  const other = ns.check(
    { subject: "/DC=org/CN=Other CA", hash: "99999999" },
    "/DC=ch/DC=cern/CN=x",
  );
  assert.match(
    !other.ok ? other.reason : "",
    /no namespace is defined for the CA \/DC=org\/CN=Other CA/,
  );
});

test("a .namespaces file wins over the signing policy, and a DENY beats a PERMIT", () => {
  const ns = index([
    { kind: "signing_policy", data: SIGNING_POLICY, source: "sp" },
    { kind: "namespaces", data: NAMESPACES, source: "ns" },
  ]);
  assert.ok(ns.check(issuer, "/DC=ch/DC=cern/OU=Users/CN=alice").ok);
  // The signing policy allowed /C=CH/O=CERN; the namespaces file does not.
  assert.equal(ns.check(issuer, "/C=CH/O=CERN/CN=carol").ok, false);
  const denied = ns.check(issuer, "/DC=ch/DC=cern/OU=Robots/CN=bot");
  assert.match(!denied.ok ? denied.reason : "", /denied .* by ns:5/);
});

test("a broken policy file makes its CA sign nothing, even with a good file beside it", () => {
  const problems: string[] = [];
  const ns = index(
    [
      { kind: "signing_policy", data: SIGNING_POLICY, source: "sp" },
      { kind: "namespaces", data: NAMESPACES + "TO Issuer SELF PERMIT Subject\n", source: "ns" },
    ],
    problems,
  );
  const r = ns.check(issuer, "/DC=ch/DC=cern/OU=Users/CN=alice");
  assert.match(!r.ok ? r.reason : "", /could not be read .*ns:6/);
  assert.match(problems.join("\n"), /sign nothing until it is fixed/);
});

test("hostile policy files are refused with the line at fault", () => {
  const refusals: [string, () => unknown, RegExp][] = [
    [
      "oversized",
      () => parseSigningPolicy("#".repeat(MAX_POLICY_FILE_BYTES + 1), "f"),
      /larger than/,
    ],
    [
      "unknown directive",
      () => parseSigningPolicy(SIGNING_POLICY.replace("pos_rights", "neg_rights"), "f"),
      /f:3: expected pos_rights/,
    ],
    [
      "block cut short",
      () => parseSigningPolicy(`access_id_CA X509 '${CERN}'\n`, "f"),
      /ends inside/,
    ],
    [
      "unquoted glob",
      () => parseSigningPolicy(SIGNING_POLICY.replace(`"/C=CH/O=CERN/*"`, "x"), "f"),
      /quoted/,
    ],
    [
      "group in a regex",
      () => parseNamespaces(`TO Issuer SELF PERMIT Subject "(a*)*"`, "f", [CERN]),
      /not supported/,
    ],
    [
      "class in a regex",
      () => parseNamespaces(`TO Issuer SELF PERMIT Subject "/[a-z]*"`, "f", [CERN]),
      /not supported/,
    ],
    [
      "dangling quantifier",
      () => parseNamespaces(`TO Issuer SELF PERMIT Subject "*x"`, "f", [CERN]),
      /follows nothing/,
    ],
    [
      "stacked quantifiers",
      () => parseNamespaces(`TO Issuer SELF PERMIT Subject "a**"`, "f", [CERN]),
      /repeated/,
    ],
    [
      "other version",
      () => parseNamespaces("#NAMESPACES-VERSION: 2.0\n", "f", [CERN]),
      /version 2.0/,
    ],
    [
      "continued to the end",
      () => parseNamespaces(`TO Issuer SELF \\`, "f", [CERN]),
      /continued line/,
    ],
    ["too long a pattern", () => compileGlob("/" + "a".repeat(2000)), /at most 1024/],
    [
      "too many patterns",
      () =>
        parseSigningPolicy(
          `access_id_CA X509 '${CERN}'\npos_rights globus CA:sign\ncond_subjects globus '${'"/x" '.repeat(300)}'\n`,
          "f",
        ),
      /more than 256/,
    ],
  ];
  for (const [what, fn, msg] of refusals) assert.throws(fn, msg, what);
});

test("patterns match whole names: * and .* span slashes, ? and . take one character", () => {
  assert.ok(matchesDn(compileGlob("/DC=ch/*"), "/DC=ch/DC=cern/CN=a"));
  assert.equal(matchesDn(compileGlob("/DC=ch/*"), "/DC=org/DC=ch/CN=a"), false);
  assert.ok(matchesDn(compileGlob("/CN=a?c"), "/CN=abc"));
  assert.equal(matchesDn(compileGlob("/CN=a?c"), "/CN=ac"), false);
  assert.ok(matchesDn(compileNamespaceRegex("^/DC=ch/DC=cern/.*$"), "/DC=ch/DC=cern/CN=x"));
  assert.equal(
    matchesDn(compileNamespaceRegex("/DC=ch/DC=cern/CN=x"), "/DC=ch/DC=cern/CN=xy"),
    false,
  );
  assert.ok(matchesDn(compileNamespaceRegex("/CN=a\\.b+c?"), "/CN=a.bbb"));
  assert.equal(matchesDn(compileNamespaceRegex("/CN=a\\.b"), "/CN=aXb"), false);
  // Attribute spellings: emailAddress, Email and E are one attribute.
  assert.ok(matchesDn(compileGlob("/O=x/Email=a@b"), "/O=x/emailAddress=a@b"));
  // A pattern that makes backtracking engines explode is matched in linear passes.
  const evil = compileNamespaceRegex("/" + "a*".repeat(200) + "b");
  assert.equal(matchesDn(evil, "/" + "a".repeat(4000)), false);
});

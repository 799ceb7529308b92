/** Loading a trust directory: what is read, what is skipped and why, and clear errors. */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCA } from "../../src/security/pki.js";
import { TrustError, loadTrustDir, loadTrustDirAsync } from "../../src/security/trust.js";
import { verifyChain } from "../../src/security/verify.js";
import { createTestPki, type TestPki } from "../helpers/pki.js";
import { FAST_BITS } from "./fixtures/bad-certs.js";

let pki: TestPki;
before(() => {
  pki = createTestPki({ bits: FAST_BITS });
});
after(() => pki.cleanup());

test("the fixture's trust directory loads one CA and its CRL without problems", () => {
  const trust = pki.trust();
  assert.equal(trust.cas.size, 1);
  assert.equal(trust.crls.size, 1);
  assert.deepEqual(trust.problems, []);
  assert.equal(trust.dir, pki.caDir);
});

test("files that are not CAs or CRLs of trusted CAs are skipped and reported", () => {
  const dir = join(pki.dir, "mixed");
  mkdirSync(dir);
  for (const f of ["0", "r0", "signing_policy"]) {
    const name = `${pki.caDir}/${caHash()}.${f}`;
    copyFileSync(name, join(dir, `${caHash()}.${f}`));
  }
  writeFileSync(join(dir, "0badc0de.0"), "garbage");
  writeFileSync(join(dir, "11111111.0"), pki.user.certPem);
  const stranger = createCA({ subject: "/DC=org/DC=stranger/CN=CA" });
  writeFileSync(
    join(dir, "22222222.r0"),
    "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
  );
  writeFileSync(join(dir, "README"), stranger.certPem);
  const trust = loadTrustDir(dir);
  assert.equal(trust.cas.size, 1);
  assert.equal(trust.problems.length, 3, trust.problems.join("\n"));
  assert.ok(
    trust.problems.some((p) => p.includes("0badc0de.0") && /not a valid X.509 certificate/.test(p)),
  );
  assert.ok(trust.problems.some((p) => p.includes("11111111.0") && /not a CA certificate/.test(p)));
  assert.ok(trust.problems.some((p) => p.includes("22222222.r0") && /not a valid CRL/.test(p)));
});

test("a missing or empty trust directory is an error naming it", () => {
  assert.throws(
    () => loadTrustDir(join(pki.dir, "absent")),
    (e: Error) => e instanceof TrustError && /absent/.test(e.message),
  );
  const empty = join(pki.dir, "empty");
  mkdirSync(empty);
  assert.throws(() => loadTrustDir(empty), /holds no CA certificates/);
});

test("an endless CA file is ignored and an endless CRL fails its CA closed, each read only to its bound", async () => {
  const dir = join(pki.dir, "endless");
  mkdirSync(dir);
  for (const f of ["0", "signing_policy"]) {
    copyFileSync(`${pki.caDir}/${caHash()}.${f}`, join(dir, `${caHash()}.${f}`));
  }
  symlinkSync("/dev/zero", join(dir, "33333333.0"));
  symlinkSync("/dev/zero", join(dir, `${caHash()}.r0`));
  const trust = loadTrustDir(dir);
  assert.equal(trust.cas.size, 1);
  assert.ok(
    trust.problems.some((p) => p.includes("33333333.0: larger than 1048576 bytes; ignored")),
    trust.problems.join("\n"),
  );
  assert.ok(
    trust.problems.some((p) =>
      /signs nothing: its CRL .*\.r0 is larger than 67108864 bytes/.test(p),
    ),
    trust.problems.join("\n"),
  );
  const chain = pki.chainDer(pki.user.certPem);
  assert.ok(verifyChain(chain, pki.trust()).ok, "verified with the CA's own CRL");
  const r = verifyChain(chain, trust);
  assert.equal(r.ok, false, "the CA whose CRL could not be read signs nothing");
  // The non-blocking reload reads at most a file's size as it was seen: /dev/zero's is 0.
  const again = await loadTrustDirAsync(dir);
  assert.equal(again.cas.size, 1);
});

function caHash(): string {
  const t = pki.trust();
  const src = [...t.cas.values()][0][0].source;
  return src.slice(src.lastIndexOf("/") + 1, src.lastIndexOf("."));
}

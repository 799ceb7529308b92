/**
 * User names map whole DNs and fail closed: an identity with an appended CN, or a second DN whose
 * CN reads like a bound user's, gets no user name and none of that user's jobs; the job ad
 * records who submitted it, beyond the client's reach; protected attributes need an admin.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { scheddClient } from "../../src/schedd/client.js";
import { createRpcClient } from "../../src/wire/index.js";
import { DN, job, startEnv, submit, testPki, type TestEnv } from "./harness.js";

const MALLORY_AS_ALICE = "/DC=org/DC=example/CN=Mallory/CN=Alice";
const OTHER_ALICE = "/DC=org/DC=example/OU=Elsewhere/CN=alice";

let env: TestEnv;
before(async () => {
  env = await startEnv({
    extra: {
      protected_job_attrs: ["AccountingGroup"],
      authorization: {
        // Both impostors hold the user role: what stops them is the user map.
        rules: [
          { identity: "/DC=org/DC=example/**", roles: ["user"] },
          { identity: DN.admin, roles: ["admin", "user"] },
        ],
        default_roles: [],
      },
    },
  });
});
after(() => env.close());

function clientFor(subject: string) {
  const { pki } = testPki();
  const cred = pki.issueUser(subject);
  return scheddClient(
    createRpcClient({
      url: env.schedd.url(),
      caDir: pki.caDir,
      certPem: cred.certPem,
      keyPem: cred.keyPem,
    }),
  );
}

test("a DN ending /CN=mallory/CN=alice is not alice: no user name, none of her jobs", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job()]);
  const mallory = clientFor(MALLORY_AS_ALICE);
  after(() => mallory.rpc.close());
  await assert.rejects(mallory.act("remove", { ids: [`${c}.0`] }), (err: Error) => {
    assert.match(err.message, /no user name is mapped .* 2 CN components/);
    return true;
  });
  await assert.rejects(mallory.query({ mine: true }), /no user name is mapped/);
  assert.equal((await alice.query({ ids: [`${c}.0`] }))[0]!.JobStatus, "1");
});

test("a second DN whose last CN reads 'alice' is refused: the name stays with the first DN", async () => {
  await submit(env.client("alice"), [job()]);
  const other = clientFor(OTHER_ALICE);
  after(() => other.rpc.close());
  await assert.rejects(other.newCluster(), (err: Error) => {
    assert.match(err.message, /user name 'alice' belongs to '\/DC=org\/DC=example\/CN=Alice'/);
    return true;
  });
  // After a restart the binding still holds (it is in the queue database).
  await env.restart();
  const again = clientFor(OTHER_ALICE);
  after(() => again.rpc.close());
  await assert.rejects(again.query({ mine: true }), /belongs to/);
});

test("the job ad records the submitter, and values the client sent for it are dropped", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [
    job({
      x509userproxysubject: '"/DC=org/DC=example/CN=Bob"',
      AuthenticatedIdentity: '"x"',
      x509UserProxyExpiration: "4102444800",
    }),
  ]);
  const [ad] = await alice.query({ ids: [`${c}.0`] });
  assert.equal(ad!.x509userproxysubject, JSON.stringify(DN.alice));
  assert.equal(ad!.AuthenticatedIdentity, JSON.stringify(DN.alice));
  assert.equal(ad!.Owner, '"alice"');
  assert.equal(ad!.x509UserProxyExpiration, undefined, "no proxy sent, so no expiry recorded");
  const expiry = await alice.edit({ ids: [`${c}.0`] }, "x509UserProxyExpiration", "4102444800");
  assert.match(expiry.refused[0]!.reason, /set by the schedd/);
  const forged = await alice.edit({ ids: [`${c}.0`] }, "x509UserProxySubject", '"/CN=x"');
  assert.match(forged.refused[0]!.reason, /set by the schedd/);
  const mytype = await alice.edit({ ids: [`${c}.0`] }, "MyType", '"Machine"');
  assert.match(mytype.refused[0]!.reason, /cannot be changed/);
});

test("a protected attribute (protected_job_attrs) once set is changed only by an admin", async () => {
  const alice = env.client("alice");
  const c = await submit(alice, [job({ AccountingGroup: '"group_cms.alice"' })]);
  const byUser = await alice.edit({ ids: [`${c}.0`] }, "AccountingGroup", '"group_atlas.alice"');
  assert.match(byUser.refused[0]!.reason, /protected .* only an admin/);
  const byAdmin = await env
    .client("admin")
    .edit({ ids: [`${c}.0`] }, "AccountingGroup", '"group_cms.prod"');
  assert.deepEqual(byAdmin.done, [`${c}.0`]);
  assert.equal((await alice.query({ ids: [`${c}.0`] }))[0]!.AccountingGroup, '"group_cms.prod"');
});

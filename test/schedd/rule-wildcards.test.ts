/**
 * Authorization patterns at a real schedd: a `*` in a rule matches within one DN component and
 * stops at `/`, so a certificate whose subject appends components to a name the rule admits gets
 * none of that rule's roles; `**` spans components where a rule means to.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { scheddClient, type ScheddClient } from "../../src/schedd/client.js";
import { createRpcClient } from "../../src/wire/index.js";
import { codeOf, slot, startEnv, testPki, type TestEnv } from "./harness.js";

let env: TestEnv;
const opened: ScheddClient[] = [];
before(async () => {
  env = await startEnv({
    extra: {
      authorization: {
        rules: [
          { identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] },
          { identity: "/DC=org/DC=example/OU=Site/**", roles: ["pilot"] },
        ],
        default_roles: [],
      },
    },
  });
});
after(async () => {
  for (const c of opened) await c.rpc.close();
  await env.close();
});

function clientFor(subject: string): ScheddClient {
  const { pki } = testPki();
  const cred = pki.issueUser(subject);
  const c = scheddClient(
    createRpcClient({
      url: env.schedd.url(),
      caDir: pki.caDir,
      certPem: cred.certPem,
      keyPem: cred.keyPem,
    }),
  );
  opened.push(c);
  return c;
}

test("a * in a rule stops at /: an appended CN does not inherit the pilot role", async () => {
  const admitted = await clientFor("/DC=org/DC=example/CN=pilot07").claimJob(slot());
  assert.equal(admitted.matched, false, "the rule's own pilots claim (nothing is idle)");
  for (const subject of [
    "/DC=org/DC=example/CN=pilot07/CN=alice",
    "/DC=org/DC=example/CN=pilot/OU=x/CN=y",
  ]) {
    await assert.rejects(
      clientFor(subject).claimJob(slot({ Name: '"slot1@glidein_9"' })),
      (e) => codeOf(e) === "permission-denied",
      subject,
    );
  }
});

test("a ** in a rule spans components", async () => {
  const r = await clientFor("/DC=org/DC=example/OU=Site/CN=node1/CN=pilot").claimJob(
    slot({ Name: '"slot1@glidein_10"' }),
  );
  assert.equal(r.matched, false);
});

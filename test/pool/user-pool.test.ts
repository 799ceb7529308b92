/**
 * What `updraft up` writes as UPDRAFT_POOL: the collectors of the users' pool, commas between
 * them, in the form --pool takes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { poolUrls } from "../../src/cli/pool-client.js";
import { portEnvName } from "../../src/pool/ports.js";
import { daemonsIn } from "../../src/pool/supervisor.js";
import { packageRoot, userPool } from "../../src/pool/up.js";

const ports = { collector: 20001, schedd: 20002, "collector-b": 20003, "collector-beta": 20004 };
const env: NodeJS.ProcessEnv = {
  UPDRAFT_STATE: "/tmp/updraft-user-pool-test",
  UPDRAFT_HOME: packageRoot(),
  UPDRAFT_COLLECTOR_PORT: String(ports.collector),
  UPDRAFT_SCHEDD_PORT: String(ports.schedd),
  UPDRAFT_SCHEDD_BETA_PORT: "20005",
  [portEnvName("collector-b")]: String(ports["collector-b"]),
  [portEnvName("collector-beta")]: String(ports["collector-beta"]),
};
const first = `wss://localhost:${ports.collector}/`;
const poolOf = (folder: string) =>
  userPool(daemonsIn(join(packageRoot(), "config", folder), {}), env, first);

test("a folder with a collector pair gives users both collectors of the pair", () => {
  const pool = poolOf("demo-two-vos");
  assert.equal(pool, `${first},wss://localhost:${ports["collector-b"]}/`);
  // The form user commands take; beta's own pool is another pool and is not listed.
  assert.equal(poolUrls(pool).length, 2);
  assert.doesNotMatch(pool, new RegExp(`:${ports["collector-beta"]}/`));
});

test("a folder with one collector gives users that collector", () => {
  assert.equal(poolOf("demo"), first);
});

test("a folder without a schedd gives users its collector", () => {
  assert.equal(userPool([], env, first), first);
});

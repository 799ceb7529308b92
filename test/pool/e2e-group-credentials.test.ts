/**
 * A frontend group with two credentials and `selection: all` on a demo pool: the real frontend
 * sends both in each request and the real factory splits the group's pilots over them.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { createProxy } from "../../src/security/proxy.js";
import { proxyDemoConfig, startTestPool, waitFor, type TestPool } from "./pool-harness.js";

// Two proxies of the demo pilot: the demo with its X.509 credential, and a second beside it.
const configDir = proxyDemoConfig();
let tp: TestPool;

before(async () => {
  const fe = join(configDir, "frontend.yaml");
  const text = readFileSync(fe, "utf8")
    .replace(
      "    - file: ${UPDRAFT_STATE}/pki/pilot/proxy.pem\n",
      "    - name: first\n      file: ${UPDRAFT_STATE}/pki/pilot/proxy.pem\n",
    )
    .replace(
      "      trust_domain: grid\n",
      "      trust_domain: grid\n    - name: second\n      file: ${UPDRAFT_STATE}/pki/pilot/proxy2.pem\n      security_class: demo\n",
    )
    .replace(
      "  - name: main\n",
      "  - name: main\n    security: { credentials: [first, second], selection: all }\n",
    );
  assert.match(text, /name: second/);
  writeFileSync(fe, text);
  tp = await startTestPool({
    configDir,
    beforeStart: (env) => {
      // A second proxy of the demo pilot's certificate: other bytes, the same identity.
      const dir = join(env.UPDRAFT_STATE!, "pki", "pilot");
      const proxy = createProxy({
        certChainPem: readFileSync(join(dir, "cert.pem"), "utf8"),
        keyPem: readFileSync(join(dir, "key.pem"), "utf8"),
        hours: 12,
      });
      writeFileSync(join(dir, "proxy2.pem"), proxy, { mode: 0o600 });
    },
  });
});
after(async () => {
  await tp?.close();
  rmSync(configDir, { recursive: true, force: true });
});

test("the group's pilots are split over both of its credentials", async () => {
  await tp.submit("hello.sub", 8, 5);
  const db = join(tp.pool.stateDir, "factory", "factory.db");
  const perCredential = () => {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return conn
        .prepare(
          "SELECT credential_id AS id, count(*) AS n FROM pilots WHERE client = ? GROUP BY credential_id",
        )
        .all("demo-frontend.main") as { id: string; n: number }[];
    } finally {
      conn.close();
    }
  };
  const rows = await waitFor(
    "pilots of the main group with each credential",
    () => {
      const r = perCredential();
      return r.length === 2 ? r : undefined;
    },
    180_000,
  );
  const counts = rows.map((r) => r.n);
  assert.ok(Math.abs(counts[0]! - counts[1]!) <= 1, `an even split: ${JSON.stringify(rows)}`);
  const credDir = join(tp.pool.stateDir, "factory", "credentials", "demo-frontend.main");
  const contents = rows
    .map((r) => readFileSync(join(credDir, `credential-${r.id}`), "utf8"))
    .sort();
  const pki = join(tp.pool.stateDir, "pki", "pilot");
  assert.deepEqual(
    contents,
    [
      readFileSync(join(pki, "proxy.pem"), "utf8"),
      readFileSync(join(pki, "proxy2.pem"), "utf8"),
    ].sort(),
  );
});

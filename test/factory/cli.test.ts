import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FactoryStore } from "../../src/factory/store.js";
import { runCli } from "../cli/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-factory-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, "factory.yaml");
// YAML is a superset of JSON.
writeFileSync(
  config,
  JSON.stringify({
    name: "f",
    collector: { url: "wss://localhost:1" },
    tls: {
      cert_file: "c",
      key_file: "k",
      rsa_private_key_file: "r",
      rsa_public_key_file: "p",
    },
    work_dir: dir,
    security: { frontends: [] },
    entries: [{ name: "e1", gridtype: "local" }],
  }),
);

test("factory downtime add, list and remove are durable", async () => {
  const add = await runCli(
    [
      "factory",
      "downtime",
      "add",
      "--config",
      config,
      "--entry",
      "e1",
      "--end",
      "2099-01-01T00:00:00Z",
      "--comment",
      "CE upgrade",
    ],
    process.env,
  );
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /downtime 1 added/);
  const list = await runCli(["factory", "downtime", "list", "--config", config], process.env);
  assert.match(list.stdout, /1\te1\t\*\t.*\t2099-01-01T00:00:00.000Z\tCE upgrade/);
  const bad = await runCli(
    ["factory", "downtime", "add", "--config", config, "--start", "yesterday-ish"],
    process.env,
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not a time/);
  const rm = await runCli(
    ["factory", "downtime", "remove", "--config", config, "--entry", "e1"],
    process.env,
  );
  assert.match(rm.stdout, /1 downtime\(s\) removed/);
  const store = new FactoryStore(join(dir, "factory.db"));
  assert.equal(store.downtimes().length, 0);
  store.close();
});

test("factory status -json gives a row per entry and client", async () => {
  const store = new FactoryStore(join(dir, "factory.db"));
  const [id] = store.recordIntents(
    [
      {
        entry: "e1",
        client: "fe.g",
        frontend: "fe",
        securityClass: "main",
        credentialId: "x",
        gridtype: "local",
      },
    ],
    1,
  );
  store.recordSubmitted([{ id: id!, handle: "h1" }], 2);
  store.recordClientStatus([
    {
      entry: "e1",
      client: "fe.g",
      frontend: "fe",
      reqIdle: 4,
      reqMax: 9,
      limitsHit: "max_per_cycle",
      at: 3,
    },
  ]);
  store.close();
  const r = await runCli(
    ["factory", "status", "--config", config, "-json", "--entry", "e1"],
    process.env,
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as {
    client: string;
    idle: number;
    reqIdle: number;
    limitsHit: string;
  }[];
  assert.deepEqual(
    rows.map((x) => [x.client, x.idle, x.reqIdle, x.limitsHit]),
    [["fe.g", 1, 4, "max_per_cycle"]],
  );
  const table = await runCli(["factory", "status", "--config", config], process.env);
  assert.match(table.stdout, /^ENTRY\s+CLIENT\s+IDLE/);
  assert.match(table.stdout, /e1\s+fe\.g\s+1\s+0\s+0\s+4\s+9\s+max_per_cycle/);
});

test("adapter settings and grid types are checked at start like the rest of the config", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "rsa-pub.pem"), publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(join(dir, "rsa-key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
  const bad = join(dir, "bad-adapters.yaml");
  writeFileSync(
    bad,
    JSON.stringify({
      name: "f",
      collector: { url: "wss://localhost:1" },
      tls: {
        cert_file: "c",
        key_file: "k",
        rsa_private_key_file: join(dir, "rsa-key.pem"),
        rsa_public_key_file: join(dir, "rsa-pub.pem"),
      },
      work_dir: join(dir, "bad-work"),
      security: { frontends: [] },
      entries: [
        { name: "e1", gridtype: "local", adapter: { slotz: 3 } },
        { name: "e2", gridtype: "condor-ce" },
      ],
    }),
  );
  const r = await runCli(["factory", "--config", bad], process.env);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /entries\[0\]\.adapter\.slotz: unknown key/);
  assert.match(r.stderr, /entries\[1\]\.gridtype: no adapter for gridtype 'condor-ce'/);
});

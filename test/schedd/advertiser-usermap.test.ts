import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import { ClassAd } from "../../src/classad/index.js";
import { parseConfig } from "../../src/common/config.js";
import { configDeprecations } from "../../src/common/config-renames.js";
import { readJobCpuByEntry } from "../../src/ads/index.js";
import { buildSchedulerAd, startAdvertiser } from "../../src/schedd/advertiser.js";
import { SCHEDD_RENAMES, loadScheddConfig, scheddConfigSchema } from "../../src/schedd/config.js";
import { createUserMap, lastCnUser, mapfileUser, parseMapfile } from "../../src/schedd/user-map.js";
import { hasErrorCode } from "../../src/common/errors.js";

test("the Scheduler ad carries job CPU per entry, read back without what is malformed", () => {
  const ad = ClassAd.fromJSON(
    buildSchedulerAd({
      name: "schedd@x",
      address: "wss://x:9618/",
      owners: new Map(),
      cpuByEntry: [
        { entry: "CE_B", factory: "f1", cpuSeconds: 7.5 },
        { entry: "CE_A", factory: "f2", cpuSeconds: 1 },
        { entry: "CE_A", factory: "f1", cpuSeconds: 3600 },
        { entry: "CE_C", cpuSeconds: 2 },
      ],
      nowS: 1000,
    }),
  );
  assert.deepEqual(readJobCpuByEntry(ad), [
    { entry: "CE_A", factory: "f1", cpuSeconds: 3600 },
    { entry: "CE_A", factory: "f2", cpuSeconds: 1 },
    { entry: "CE_B", factory: "f1", cpuSeconds: 7.5 },
    { entry: "CE_C", cpuSeconds: 2 },
  ]);
  const hostile = ClassAd.parse(
    '[ JobCpuByEntry = { [ Name = "ok"; JobCpuSeconds = 1 ], [ Name = 3; JobCpuSeconds = 1 ], ' +
      '[ Name = "neg"; JobCpuSeconds = -1 ], [ Name = "text"; JobCpuSeconds = "9" ], 4, ' +
      '[ Name = "f"; Factory = 7; JobCpuSeconds = 2 ] } ]',
  );
  // A factory that is not a string is dropped, the entry kept.
  assert.deepEqual(readJobCpuByEntry(hostile), [
    { entry: "ok", cpuSeconds: 1 },
    { entry: "f", cpuSeconds: 2 },
  ]);
  assert.deepEqual(readJobCpuByEntry(ClassAd.parse('[ JobCpuByEntry = "x" ]')), []);
  assert.equal(readJobCpuByEntry(hostile, 0).length, 0);
});

test("the Scheduler ad carries the address and idle/running/held counts per owner", () => {
  const ad = buildSchedulerAd({
    name: "schedd@x",
    address: "wss://x:9618/",
    owners: new Map([
      ["bob", { idle: 1, running: 2, held: 0 }],
      ["alice", { idle: 3, running: 0, held: 1 }],
      ["gone", { idle: 0, running: 0, held: 0 }],
    ]),
    nowS: 1000,
  });
  const c = ClassAd.fromJSON(ad);
  assert.equal(c.evaluate("MyType"), "Scheduler");
  assert.equal(c.evaluate("ScheddIpAddr"), "wss://x:9618/");
  assert.deepEqual(
    [c.evaluate("TotalIdleJobs"), c.evaluate("TotalRunningJobs"), c.evaluate("TotalHeldJobs")],
    [4, 2, 1],
  );
  assert.equal(c.evaluate("NumUsers"), 2);
  assert.equal(c.evaluateExpr("Submitters[0].Name"), "alice");
  assert.equal(c.evaluateExpr("Submitters[1].RunningJobs"), 2);
});

test("a missing collector is logged and retried, never thrown", async () => {
  let calls = 0;
  const adv = startAdvertiser(
    () => ({ MyType: '"Scheduler"' }),
    async () => {
      calls++;
      throw new Error("connection refused");
    },
    3_600_000,
    pino({ level: "silent" }),
  );
  assert.equal(await adv.advertiseNow(), false);
  adv.stop();
  assert.ok(calls >= 1);
});

test("default user mapping: the last CN, lower-cased, unsafe characters replaced", () => {
  const user = (dn: string) => {
    const r = lastCnUser(dn);
    return r.ok ? r.user : undefined;
  };
  assert.equal(user("/DC=org/DC=example/CN=Alice"), "alice");
  assert.equal(user("/DC=org/O=x/CN=Jane Q. Public"), "jane_q._public");
  assert.equal(user("/DC=org/O=x"), undefined);
  // Two CNs, or a CN that is not last, could be read two ways: no user name.
  assert.equal(user("/DC=org/CN=John Doe/CN=12345"), undefined);
  assert.equal(user("/DC=org/CN=mallory/CN=alice"), undefined);
  assert.equal(user("/DC=org/CN=alice/OU=x"), undefined);
  assert.equal(user("/DC=org/CN=mallory\\/CN=alice"), undefined);
  assert.equal(user("/DC=org/CN=al;ice"), undefined);
});

test("mapfile: first matching rule wins, groups substitute, bad lines name their line", () => {
  const rules = parseMapfile(
    '# users\nGSI "^/DC=org/DC=example/CN=([A-Za-z]+)$" \\1\nGSI /^.*/CN=Robot[^/]*$/ robot\n' +
      'GSI "^/DC=org/DC=example/CN=Robot[^/]*$" robot\nGSI "^/DC=org/DC=example/CN=Rob.*$" rob\n',
  );
  const map = mapfileUser(rules);
  const user = (dn: string) => {
    const r = map(dn);
    return r.ok ? r.user : r.reason;
  };
  assert.equal(user("/DC=org/DC=example/CN=Carol"), "Carol");
  assert.equal(user("/DC=org/DC=other/CN=Robot 7"), "robot");
  assert.match(user("/DC=org/DC=other/CN=Dave"), /no rule of mapfile maps/);
  // Two rules, two users: fail closed rather than take the first.
  assert.match(
    user("/DC=org/DC=example/CN=Robot 7"),
    /ambiguous .*'robot' \(line 3\) and 'rob' \(line 5\)/,
  );
  assert.throws(() => parseMapfile('GSI "/CN=alice" alice\n', "m"), /m:1: .* anchored/);
  assert.throws(() => parseMapfile("GSI onlytwo\n", "users.map"), /users\.map:1:/);
  assert.throws(
    () => parseMapfile("GSI onlytwo\n", "users.map"),
    (err: unknown) => hasErrorCode(err, "mapfile-invalid"),
  );
  const dir = mkdtempSync(join(tmpdir(), "usermap-"));
  const bad = join(dir, "users.map");
  writeFileSync(bad, 'GSI "/CN=alice" alice\n');
  assert.throws(
    () => createUserMap({ mode: "mapfile", mapfile: bad }),
    (err: unknown) =>
      hasErrorCode(err, "config-invalid") &&
      /user_map\.mapfile: .*users\.map:1: the expression must be anchored/.test(err.message),
  );
  rmSync(dir, { recursive: true, force: true });
});

test("the example config/schedd.yaml is valid", () => {
  const file = new URL("../../../config/schedd.yaml", import.meta.url).pathname;
  const cfg = loadScheddConfig(file);
  assert.equal(cfg.lease_s, 1200);
  assert.deepEqual(configDeprecations(cfg), []);
  assert.equal(cfg.user_map.mode, "last-cn");
});

const OLD_SPELLINGS = `
listen: { host: 127.0.0.1, port: 0 }
cert_file: /c.pem
key_file: /k.pem
trust_dir: /ca
state_dir: /s
lease_minutes: 2
lease_check_seconds: 3
periodic_seconds: 4
checkpoint_seconds: 5
usage_half_life_hours: 6
history_days: 7
authz: { rules: [], defaultRoles: [] }
sandbox: { keep_output_hours: 8 }
collector: { url: "wss://c.example.org:9618/", interval_seconds: 9 }
`;

test("the previous release's schedd keys load, converted to seconds, with a warning each", () => {
  const cfg = parseConfig(scheddConfigSchema, OLD_SPELLINGS, "old.yaml", {}, SCHEDD_RENAMES);
  // The old flat keys become the tls block's (which adds its own defaults beside them).
  const { cert_file, key_file, trust_dir } = cfg.tls!;
  assert.deepEqual(
    { cert_file, key_file, trust_dir },
    {
      cert_file: "/c.pem",
      key_file: "/k.pem",
      trust_dir: "/ca",
    },
  );
  assert.deepEqual(
    [cfg.lease_s, cfg.lease_check_s, cfg.periodic_s, cfg.checkpoint_s, cfg.usage_half_life_s],
    [120, 3, 4, 5, 6 * 3600],
  );
  assert.equal(cfg.history_s, 7 * 86_400);
  assert.equal(cfg.sandbox.keep_output_s, 8 * 3600);
  assert.equal(cfg.collector?.interval_s, 9);
  assert.deepEqual(cfg.authorization, { rules: [], default_roles: [] });
  assert.equal(configDeprecations(cfg).length, SCHEDD_RENAMES.length);
});

test("mapfile: a token's <iss>#<sub> maps as docs/security.md shows (SCITOKENS rule)", () => {
  const map = mapfileUser(
    parseMapfile('SCITOKENS "^https://cms-auth\\.web\\.cern\\.ch/#(.*)$" \\1\n', "tokens.map"),
    "tokens.map",
  );
  const user = (identity: string, sub: string) => {
    const r = map(identity, { sub });
    return r.ok ? r.user : r.reason;
  };
  assert.equal(user("https://cms-auth.web.cern.ch/#alice", "alice"), "alice");
  // Another issuer with the same sub is not this user.
  assert.match(user("https://evil.example.org/#alice", "alice"), /no rule of tokens\.map maps/);
  assert.match(
    user("https://cms-auth.web.cern.ch/#../root", "../root"),
    /maps .* to an invalid user name/,
  );
});

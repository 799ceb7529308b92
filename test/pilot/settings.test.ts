import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAttr, resolveSettings } from "../../src/pilot/settings.js";

test("attributes are typed", () => {
  assert.deepEqual(parseAttr("N=3"), ["N", 3]);
  assert.deepEqual(parseAttr("F=2.5"), ["F", 2.5]);
  assert.deepEqual(parseAttr("B=TRUE"), ["B", true]);
  assert.deepEqual(parseAttr('S="x y"'), ["S", "x y"]);
  assert.deepEqual(parseAttr("S=T2_US_UCSD"), ["S", "T2_US_UCSD"]);
  assert.equal(parseAttr("1bad=x"), undefined);
  assert.equal(parseAttr("novalue"), undefined);
});

test("the pilot lives within the walltime asked of the batch system", () => {
  const base = { UPDRAFT_COLLECTOR: "wss://c:9618", UPDRAFT_SCHEDDS: "wss://s:9619" };
  const life = (env: Record<string, string>, maxWalltime?: number) => {
    const r = resolveSettings({ maxWalltime }, { ...base, ...env }, () => "p");
    assert.ok(r.ok, r.ok ? "" : r.problems.join("; "));
    return r.settings.lifetime.maxWalltimeS;
  };
  assert.equal(life({ GLIDEIN_Max_Walltime: "7200", UPDRAFT_PILOT_WALLTIME_S: "3600" }), 3600);
  assert.equal(life({ GLIDEIN_Max_Walltime: "1800", UPDRAFT_PILOT_WALLTIME_S: "3600" }), 1800);
  assert.equal(life({ UPDRAFT_PILOT_WALLTIME_S: "600" }, 7200), 600);
  assert.equal(life({}), 48 * 3600);
  const bad = resolveSettings({}, { ...base, UPDRAFT_PILOT_WALLTIME_S: "soon" }, () => "p");
  assert.ok(!bad.ok);
  assert.match(
    bad.problems.join("\n"),
    /UPDRAFT_PILOT_WALLTIME_S=soon is not a non-negative number/,
  );
});

test("environment as the bootstrap sets it, command line winning", () => {
  const env = {
    UPDRAFT_COLLECTOR: "wss://c:9618",
    UPDRAFT_SCHEDDS: "wss://s1:9619,wss://s2:9619",
    GLIDEIN_Entry_Name: "e1",
    GLIDEIN_Site: "SITE",
    GLIDEIN_Max_Walltime: "7200",
    GLIDEIN_Retire_Time_Spread: "600",
    GLIDEIN_Max_Idle: "300",
    MIN_DISK_GBS: "5",
    UPDRAFT_PILOT_ATTRS: "A=1;B=two words",
    UPDRAFT_VALIDATION_SCRIPTS: "/a.sh,/b.sh",
    UPDRAFT_VO_SCRIPTS: "/vo.sh",
    UPDRAFT_PILOT_ID: "p9",
  };
  const r = resolveSettings({ site: "CLI_SITE", attr: ["C=false"] }, env, () => "unused");
  assert.ok(r.ok);
  const s = r.settings;
  assert.equal(s.pilotId, "p9");
  assert.deepEqual(s.schedds, ["wss://s1:9619", "wss://s2:9619"]);
  assert.deepEqual(s.published, {
    A: 1,
    B: "two words",
    C: false,
    GLIDEIN_Entry_Name: "e1",
    GLIDEIN_Site: "CLI_SITE",
  });
  assert.deepEqual(s.lifetime, {
    maxWalltimeS: 7200,
    retireTimeS: undefined,
    retireSpreadS: 600,
    maxIdleS: 300,
    maxTailS: undefined,
    graceS: 120,
  });
  assert.equal(s.validation.minDiskGb, 5);
  assert.equal(s.validation.credentialMinS, 7080);
  assert.deepEqual(s.validation.urls, ["wss://s1:9619", "wss://s2:9619"]);
  assert.deepEqual(s.validation.urlsOneOf, [["wss://c:9618"]]);
  assert.deepEqual(
    s.validation.scripts?.map((x) => `${x.kind}:${x.path}`),
    ["site:/a.sh", "site:/b.sh", "vo:/vo.sh"],
  );
});

test("the frontend's parameters as the factory passes them", () => {
  const r = resolveSettings(
    {},
    {
      GLIDEIN_Collector: "wss://c:9618",
      GLIDEIN_Schedds: "wss://s1:9619,wss://s2:9619",
      GLIDEIN_Frontend: "vofe",
      GLIDEIN_Client: "vofe.main",
      GLIDEIN_Start: 'TARGET.Owner =!= "mallory"',
    },
    () => "p",
  );
  assert.ok(r.ok);
  assert.deepEqual(r.settings.collectors, ["wss://c:9618"]);
  assert.deepEqual(r.settings.schedds, ["wss://s1:9619", "wss://s2:9619"]);
  assert.equal(r.settings.start, 'TARGET.Owner =!= "mallory"');
  assert.equal(r.settings.published.GLIDECLIENT_Name, "vofe.main");
  assert.equal(r.settings.published.GLIDECLIENT_Group, "main");
  // Explicit Updraft names win over the glideinWMS ones.
  const both = resolveSettings(
    {},
    { UPDRAFT_COLLECTOR: "wss://mine:1", GLIDEIN_Collector: "wss://c:9618" },
    () => "p",
  );
  assert.ok(both.ok);
  assert.deepEqual(both.settings.collectors, ["wss://mine:1"]);
  // A highly available pool: every collector of the comma list gets the slot ad.
  const pair = resolveSettings({}, { GLIDEIN_Collector: "wss://c1:9618,wss://c2:9618" }, () => "p");
  assert.ok(pair.ok);
  assert.deepEqual(pair.settings.collectors, ["wss://c1:9618", "wss://c2:9618"]);
});

test("a token is renewable only with a collector and the frontend's identity the factory named", () => {
  const fe = "/DC=org/DC=example/CN=frontend";
  const both = resolveSettings(
    {},
    { GLIDEIN_Collector: "wss://c:9618", UPDRAFT_FRONTEND_IDENTITY: fe },
    () => "p",
  );
  assert.ok(both.ok);
  assert.equal(both.settings.frontendIdentity, fe);
  assert.equal(both.settings.validation.credentialRenewable, true);
  const noIdentity = resolveSettings({}, { GLIDEIN_Collector: "wss://c:9618" }, () => "p");
  assert.ok(noIdentity.ok);
  assert.equal(noIdentity.settings.frontendIdentity, undefined);
  assert.equal(noIdentity.settings.validation.credentialRenewable, false);
  const noCollector = resolveSettings({}, { UPDRAFT_FRONTEND_IDENTITY: fe }, () => "p");
  assert.ok(noCollector.ok);
  assert.equal(noCollector.settings.validation.credentialRenewable, false);
  const long = resolveSettings({}, { UPDRAFT_FRONTEND_IDENTITY: "x".repeat(1025) }, () => "p");
  assert.equal(long.ok, false);
});

test("bad values are all reported", () => {
  const r = resolveSettings(
    {},
    { GLIDEIN_Max_Idle: "soon", UPDRAFT_PILOT_ATTRS: "oops" },
    () => "x",
  );
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.problems.length === 2, JSON.stringify(r));
});

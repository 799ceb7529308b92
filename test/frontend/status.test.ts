import assert from "node:assert/strict";
import { test } from "node:test";
import { entryStatuses, formatStatus, newestByName } from "../../src/frontend/status.js";

const resource = (name: string, heard: number, extra: Record<string, string> = {}) => ({
  MyType: '"GlideResource"',
  Name: JSON.stringify(name),
  GlideClientName: '"vo.main"',
  GlideFactoryEntry: JSON.stringify(name.split("@vo.")[0]),
  GlideClientMonitorJobsIdle: "4",
  GlideClientLimitsTriggered: '"ramp-up /3; at least one"',
  LastHeardFrom: String(heard),
  ...extra,
});

test("the same ad from two collectors: the one heard from last counts", () => {
  const older = resource("ce1@vo.main", 100, { GlideClientMonitorJobsIdle: "1" });
  const newer = resource("ce1@vo.main", 200);
  const kept = newestByName([newer, older]);
  assert.deepEqual(kept, [newer]);
  assert.deepEqual(newestByName([older, newer]), [newer]);
});

test("rows without FrontendName/GroupName take them from the client name; limits are kept", () => {
  const rows = entryStatuses(
    [
      resource("ce1@vo.main", 100, {
        GlideClientLimit_idle_glideins_per_entry: '"count=4, limit=4"',
      }),
      resource("ce2@vo.main", 100, { GlideClientMatchErrors: "3" }),
    ],
    [
      {
        MyType: '"GlideClient"',
        Name: '"ce1@vo.main"',
        ClientName: '"vo.main"',
        ReqName: '"ce1"',
        ReqIdleGlideins: "1",
        ReqMaxGlideins: "5",
        ReqRemoveExcess: '"WAIT"',
        ReqRemoveExcessMargin: "2",
        LastHeardFrom: "150",
      },
    ],
  );
  assert.deepEqual(
    rows.map((r) => [r.frontend, r.group, r.entry, r.request?.idle ?? null, r.updated]),
    [
      ["vo", "main", "ce1", 1, 150],
      ["vo", "main", "ce2", null, 100],
    ],
  );
  assert.deepEqual(rows[0]!.boundBy, ["ramp-up /3", "at least one"]);
  assert.deepEqual(rows[0]!.limits, { Limit_idle_glideins_per_entry: "count=4, limit=4" });
  assert.equal(rows[0]!.request?.removeExcess, "WAIT");
  assert.equal(rows[1]!.matchErrors, 3);
  assert.deepEqual(entryStatuses([resource("ce1@vo.main", 1)], [], { group: "other" }), []);
});

test("status shows the attributes a group's GlideClient ads send, not the system's parameters", async () => {
  const { formatStatus } = await import("../../src/frontend/status.js");
  const rows = entryStatuses(
    [resource("ce1@vo.main", 100)],
    [
      {
        MyType: '"GlideClient"',
        Name: '"ce1@vo.main"',
        ClientName: '"vo.main"',
        ReqName: '"ce1"',
        ReqIdleGlideins: "1",
        ReqMaxGlideins: "5",
        GlideinParamGLIDEIN_Collector: '"wss://c:9618"',
        GlideinParamUPDRAFT_VO_BUNDLE: '"https://fe/b"',
        GlideinParamVO_Dir: '"/cvmfs/vo"',
        GlideinParamVO_Tier: "2",
        GlideinParamVO_Big: '"TotalCpus >= 8"',
        GlideinExprAttrs: '"VO_Big"',
        GlideinPublishAttrs: '"VO_Dir,VO_Big"',
        GlideinJobPublishAttrs: '"VO_Dir"',
      },
    ],
  );
  assert.deepEqual(
    rows[0]!.attrs?.map((a) => [a.name, a.type, a.value, a.publish, a.job]),
    [
      ["VO_Big", "expr", "TotalCpus >= 8", true, false],
      ["VO_Dir", "string", "/cvmfs/vo", true, true],
      ["VO_Tier", "int", 2, false, false],
    ],
  );
  assert.match(
    formatStatus(rows),
    /^attrs sent: VO_Big=\(TotalCpus >= 8\) \[slot\], VO_Dir="\/cvmfs\/vo" \[slot,job\], VO_Tier=2$/m,
  );
});

test("status shows the VO scripts a group sends and the bundle its requests name", () => {
  const sha = "c0ffee".repeat(10) + "abcd";
  const rows = entryStatuses(
    [
      resource("ce1@vo.main", 100, {
        GlideClientVOScripts: '"start: /opt/vo/sw.sh; periodic every 600 s: /opt/vo/squid.sh"',
      }),
    ],
    [
      {
        MyType: '"GlideClient"',
        Name: '"ce1@vo.main"',
        ClientName: '"vo.main"',
        ReqName: '"ce1"',
        ReqIdleGlideins: "1",
        ReqMaxGlideins: "5",
        GlideinParamUPDRAFT_VO_BUNDLE_SHA256: JSON.stringify(sha),
      },
    ],
  );
  assert.equal(rows[0]!.voBundle, sha);
  assert.match(
    formatStatus(rows),
    /^scripts sent: start: \/opt\/vo\/sw\.sh; periodic every 600 s: \/opt\/vo\/squid\.sh \(bundle c0ffeec0ffee\)$/m,
  );
  const none = formatStatus(entryStatuses([resource("ce1@vo.main", 100)], []));
  assert.doesNotMatch(none, /scripts sent/, "a group sending none says nothing of them");
});

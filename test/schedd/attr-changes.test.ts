import assert from "node:assert/strict";
import { test } from "node:test";
import { AttrChanges } from "../../src/schedd/attr-changes.js";

test("changes keep the ad's spelling and order, remove in any case, and add new names last", () => {
  const ad = { ClusterId: "1", jobstatus: "1", RemoteHost: '"slot1@a"', Cmd: '"/bin/true"' };
  const out = new AttrChanges()
    .set("JobStatus", "2")
    .delete("REMOTEHOST")
    .set("NumJobStarts", "1")
    .set("LastJobStatus", "1")
    .applyTo(ad);
  assert.deepEqual(Object.entries(out), [
    ["ClusterId", "1"],
    ["jobstatus", "2"],
    ["Cmd", '"/bin/true"'],
    ["NumJobStarts", "1"],
    ["LastJobStatus", "1"],
  ]);
  assert.deepEqual(ad, {
    ClusterId: "1",
    jobstatus: "1",
    RemoteHost: '"slot1@a"',
    Cmd: '"/bin/true"',
  });
});

test("a later change of the same name wins, and a removed absent name is not added", () => {
  const c = new AttrChanges().set("ExitCode", "1").set("exitcode", "2").delete("ExitSignal");
  assert.deepEqual(c.applyTo({ A: "1" }), { A: "1", exitcode: "2" });
  // Applied twice, to ads that differ: each sees only its own names.
  assert.deepEqual(c.applyTo({ EXITCODE: "0", ExitSignal: "9" }), { EXITCODE: "2" });
  assert.deepEqual(c.applyTo({}), { exitcode: "2" });
  assert.deepEqual(
    new AttrChanges().set("ExitCode", "1").delete("EXITCODE").applyTo({ ExitCode: "0" }),
    {},
  );
});

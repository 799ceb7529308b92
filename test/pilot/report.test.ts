import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatReport,
  parsePilotOutput,
  startMarker,
  type PilotReport,
} from "../../src/pilot/report.js";

const report: PilotReport = {
  version: 1,
  pilotId: "p42",
  host: "wn01.example.org",
  entry: "ucsd_ce1",
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: "2026-01-01T01:00:00.000Z",
  durationS: 3600,
  validation: { ok: true, checks: [{ name: "disk", ok: true, ms: 1.5 }] },
  jobs: [
    {
      jobId: "12.0",
      schedd: "schedd1",
      startedAt: "2026-01-01T00:01:00.000Z",
      disposition: "killed",
      exitCode: null,
      signal: "SIGKILL",
      wallS: 12.5,
      userS: 1,
      sysS: 0.5,
      peakRssMb: 300,
      holdReason: "Job has gone over memory limit of 256 megabytes. Peak usage: 300 megabytes.",
    },
  ],
  idleS: 1200,
  exit: { reason: "idle", code: 0 },
};

test("round trip through a pilot's stdout with noise around it", () => {
  const text =
    `${startMarker(new Date(report.startedAt))}\nsome log line\n{"not":"the report"}\n` +
    formatReport(report) +
    "trailing batch system noise\n";
  const p = parsePilotOutput(text);
  assert.deepEqual(p.report, report);
  assert.equal(p.startedAt, report.startedAt);
  assert.deepEqual(p.ending, { at: report.endedAt, code: 0, seconds: 3600 });
  assert.equal(p.truncated, false);
  assert.deepEqual(p.problems, []);
  assert.match(text, /Jobs: 1 \(completed 0, killed 1/);
});

test("output cut anywhere is reported as truncated, never thrown", () => {
  const full = `${startMarker(new Date(report.startedAt))}\n${formatReport(report)}`;
  for (let cut = 0; cut < full.length; cut += 7) {
    const p = parsePilotOutput(full.slice(0, cut));
    if (p.report) assert.deepEqual(p.report, report);
    if (cut > full.indexOf("\n") && !p.ending) assert.equal(p.truncated, true, `cut at ${cut}`);
  }
  const noEnd = parsePilotOutput(full.slice(0, full.indexOf("=== Pilot report end")));
  assert.equal(noEnd.report, undefined);
  assert.match(noEnd.problems.join(), /never ends/);
});

test("a failed validation report carries the failure class and exit code", () => {
  const failed: PilotReport = {
    ...report,
    jobs: [],
    validation: { ok: false, failure: { class: "VO_Proxy", message: "expired" }, checks: [] },
    exit: { reason: "validation", code: 15, failureClass: "VO_Proxy", message: "expired" },
  };
  const p = parsePilotOutput(formatReport(failed));
  assert.equal(p.report?.exit.failureClass, "VO_Proxy");
  assert.equal(p.ending?.code, 15);
  assert.equal(
    parsePilotOutput(`=== Pilot report begin ===\n{]\n=== Pilot report end ===\n`).problems.length,
    1,
  );
});

/**
 * A query's constraint read for the status, cluster and proc it pins: rows those columns rule
 * out are left unread, so what is pinned must only ever be implied by the constraint.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pinnedColumns, pinnedWhere } from "../../src/schedd/query-columns.js";

test("equalities at the top of && chains pin their columns, on either side and in parentheses", () => {
  assert.deepEqual(pinnedColumns("ClusterId == 7 && JobStatus == 2"), { cluster: 7, status: 2 });
  assert.deepEqual(pinnedColumns('(2 == jobstatus) && (Owner == "a" && PROCID == 3)'), {
    status: 2,
    proc: 3,
  });
  assert.deepEqual(pinnedColumns("ClusterId == 7"), { cluster: 7 });
});

test("anything a row could match without the equality pins nothing", () => {
  for (const text of [
    "",
    "true",
    "JobStatus == 2 || JobStatus == 1",
    "!(JobStatus == 2)",
    "JobStatus != 2",
    "JobStatus =?= 2",
    "JobStatus == 2.0",
    'JobStatus == "2"',
    "MY.JobStatus == 2",
    ".JobStatus == 2",
    "JobStatus == RequestCpus",
    "JobStatus == 2 ? true : true",
    "NumJobStarts == 2",
    "JobStatus ==",
  ]) {
    assert.equal(pinnedColumns(text), undefined, text);
  }
});

test("the pinned columns become an SQL condition with bound values", () => {
  assert.deepEqual(pinnedWhere({ status: 2, cluster: 7 }), {
    sql: "WHERE cluster = ? AND status = ?",
    params: [7, 2],
  });
  assert.deepEqual(pinnedWhere(undefined), { sql: "", params: [] });
  assert.deepEqual(pinnedWhere({}), { sql: "", params: [] });
});

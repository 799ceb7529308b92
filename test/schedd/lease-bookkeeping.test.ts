import assert from "node:assert/strict";
import { test } from "node:test";
import {
  completionVerdict,
  heartbeatVerdict,
  lapsedLeases,
  leaseExpiry,
  newLeaseId,
  type LeaseView,
} from "../../src/schedd/lease.js";

const lease = (state: LeaseView["state"], endReason: string | null = null): LeaseView => ({
  id: "L",
  identity: "/CN=p",
  state,
  endReason,
});

test("lease ids are unique and sort by time of issue", () => {
  const a = newLeaseId(1_000);
  const b = newLeaseId(2_000);
  assert.notEqual(newLeaseId(1_000), a);
  assert.ok(a < b);
  assert.equal(leaseExpiry(1_000, 60_000), 61_000);
});

test("heartbeat verdicts by lease state and caller", () => {
  assert.deepEqual(heartbeatVerdict("L", lease("active"), "/CN=p"), { ok: true, action: "extend" });
  assert.deepEqual(heartbeatVerdict("L", lease("killed", "held by user"), "/CN=p"), {
    ok: true,
    action: "kill",
    reason: "held by user",
  });
  assert.equal(heartbeatVerdict("L", lease("lapsed"), "/CN=p").ok, true);
  assert.equal(
    (heartbeatVerdict("L", lease("active"), "/CN=q") as { reason: string }).reason,
    "wrong-pilot",
  );
  assert.equal(
    (heartbeatVerdict("L", undefined, "/CN=p") as { reason: string }).reason,
    "unknown-lease",
  );
});

test("a completion is accepted only for an active lease, once", () => {
  assert.deepEqual(completionVerdict("L", lease("active"), "/CN=p"), { ok: true });
  const reason = (s: LeaseView["state"]) =>
    (completionVerdict("L", lease(s), "/CN=p") as { reason: string }).reason;
  assert.equal(reason("completed"), "duplicate-completion");
  assert.equal(reason("lapsed"), "stale-lease");
  assert.equal(reason("killed"), "stale-lease");
});

test("lapsed leases: running jobs whose expiry is at or before now", () => {
  const jobs = [
    { id: 1, running: true, leaseExpires: 100 },
    { id: 2, running: true, leaseExpires: 101 },
    { id: 3, running: false, leaseExpires: 50 },
  ];
  assert.deepEqual(
    lapsedLeases(jobs, 100).map((j) => j.id),
    [1],
  );
});

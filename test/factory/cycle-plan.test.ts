import assert from "node:assert/strict";
import { test } from "node:test";
import { entryClientKey } from "../../src/factory/cycle-deps.js";
import { backoffAfter, type CyclePlanInputs, planCycle } from "../../src/factory/cycle-plan.js";
import type {
  ClientDecision,
  ClientRequest,
  PilotRemoval,
  Refusal,
} from "../../src/factory/decide-types.js";

const NOW = 1_000_000;

function client(
  entry: string,
  clientName: string,
  o: Partial<ClientDecision> = {},
): ClientDecision {
  return {
    entry,
    client: clientName,
    frontend: "fe",
    securityClass: "main",
    reqIdle: 5,
    reqMax: 10,
    submit: 0,
    boundBy: "requested",
    limitsHit: [],
    remove: [],
    counts: { idle: 0, running: 0, held: 0 },
    ...o,
  };
}

function request(entry: string, clientName: string, idleLifetimeS?: number): ClientRequest {
  return {
    entry,
    client: clientName,
    frontend: "fe",
    securityClass: "main",
    authenticatedIdentity: "/CN=fe",
    reqIdle: 5,
    reqMax: 10,
    removeExcess: "NO",
    idleLifetimeS,
  };
}

const refusal: Refusal = {
  entry: "ce_x",
  client: "fe.g",
  frontend: "fe",
  securityClass: "main",
  authenticatedIdentity: "/CN=fe",
  reason: "unknown_entry",
};

function removals(n: number): PilotRemoval[] {
  return Array.from({ length: n }, (_, i) => ({ pilotId: i + 1, reason: "excess_idle" as const }));
}

function inputs(o: Partial<CyclePlanInputs>): CyclePlanInputs {
  return {
    now: NOW,
    decision: { clients: [], refused: [] },
    requests: [],
    hasAdapter: () => true,
    removeLeft: () => 5,
    ...o,
  };
}

test("submissions: go ahead, wait for a validation pause, or wait for a refusing CE", () => {
  const cases: {
    name: string;
    extra: Partial<CyclePlanInputs>;
    submitted: number;
    held?: "validation_paused" | "backing_off";
  }[] = [
    { name: "nothing in the way", extra: {}, submitted: 3 },
    {
      name: "validation pause in force",
      extra: {
        validationBackoff: new Map([
          ["ce_a", { failures: 4, until: NOW + 1, lastFailure: "Config: x" }],
        ]),
      },
      submitted: 0,
      held: "validation_paused",
    },
    {
      name: "validation pause over",
      extra: { validationBackoff: new Map([["ce_a", { failures: 4, until: NOW }]]) },
      submitted: 3,
    },
    {
      name: "CE back-off in force",
      extra: {
        backoff: new Map([["ce_a", { failures: 2, until: NOW + 60_000, lastError: "refused" }]]),
      },
      submitted: 0,
      held: "backing_off",
    },
    {
      name: "both: the validation pause is named",
      extra: {
        backoff: new Map([["ce_a", { failures: 2, until: NOW + 60_000 }]]),
        validationBackoff: new Map([["ce_a", { failures: 4, until: NOW + 1 }]]),
      },
      submitted: 0,
      held: "validation_paused",
    },
    {
      name: "back-off at another entry",
      extra: { backoff: new Map([["ce_b", { failures: 2, until: NOW + 60_000 }]]) },
      submitted: 3,
    },
  ];
  for (const c of cases) {
    const plan = planCycle(
      inputs({
        decision: { clients: [client("ce_a", "fe.g", { submit: 3 })], refused: [] },
        ...c.extra,
      }),
    );
    const total = plan.submissions.reduce((n, s) => n + s.count, 0);
    assert.equal(total, c.submitted, c.name);
    assert.deepEqual(
      plan.held.map((h) => h.why),
      c.held ? [c.held] : [],
      c.name,
    );
    if (c.held === "backing_off") {
      assert.match(
        plan.held[0]!.message,
        /not submitting until .* cycle\(s\) of submissions all failed/,
      );
      assert.equal(plan.held[0]!.until, NOW + 60_000);
    }
    if (c.held === "validation_paused") assert.match(plan.held[0]!.message, /failed validation/);
  }
});

test("a client with nothing to submit is neither submitted nor held, even at a paused entry", () => {
  const plan = planCycle(
    inputs({
      decision: { clients: [client("ce_a", "fe.g")], refused: [] },
      backoff: new Map([["ce_a", { failures: 2, until: NOW + 60_000 }]]),
    }),
  );
  assert.deepEqual(plan.submissions, []);
  assert.deepEqual(plan.held, []);
});

test("removals share the entry's budget across clients, in decision order; the rest is deferred", () => {
  const plan = planCycle(
    inputs({
      decision: {
        clients: [
          client("ce_a", "fe.g1", { remove: removals(3) }),
          client("ce_a", "fe.g2", { remove: removals(4) }),
          client("ce_b", "fe.g1", { remove: removals(2) }),
        ],
        refused: [],
      },
      // Housekeeping already spent one of ce_a's five.
      removeLeft: (entry) => (entry === "ce_a" ? 4 : 5),
    }),
  );
  assert.deepEqual(
    plan.removals.map((r) => [r.entry, r.client, r.remove.length, r.deferred]),
    [
      ["ce_a", "fe.g1", 3, 0],
      ["ce_a", "fe.g2", 1, 3],
      ["ce_b", "fe.g1", 2, 0],
    ],
  );
  assert.deepEqual(plan.removals[1]!.remove, removals(1));
});

test("entries without an adapter get neither removals nor submissions, but keep their status row", () => {
  const plan = planCycle(
    inputs({
      decision: {
        clients: [client("ce_gone", "fe.g", { submit: 2, remove: removals(1) })],
        refused: [],
      },
      hasAdapter: (entry) => entry !== "ce_gone",
    }),
  );
  assert.deepEqual(plan.removals, []);
  assert.deepEqual(plan.submissions, []);
  assert.equal(plan.clientStatus.length, 1);
});

test("idle lifetimes come from accepted requests that set one; refused requests set none", () => {
  const plan = planCycle(
    inputs({
      decision: { clients: [], refused: [refusal] },
      requests: [
        request("ce_a", "fe.g", 600),
        request("ce_b", "fe.g", 0),
        request("ce_x", "fe.g", 60),
      ],
    }),
  );
  assert.deepEqual([...plan.idleLifetimes], [[entryClientKey("ce_a", "fe.g"), 600_000]]);
});

test("client status: one row per decision and per refusal, stamped with the cycle's time", () => {
  const plan = planCycle(
    inputs({
      decision: {
        clients: [
          client("ce_a", "fe.g", { limitsHit: ["entry.max_idle", "frontend.max_glideins"] }),
        ],
        refused: [refusal],
      },
    }),
  );
  assert.deepEqual(plan.clientStatus, [
    {
      entry: "ce_a",
      client: "fe.g",
      frontend: "fe",
      reqIdle: 5,
      reqMax: 10,
      limitsHit: "entry.max_idle,frontend.max_glideins",
      at: NOW,
    },
    {
      entry: "ce_x",
      client: "fe.g",
      frontend: "fe",
      reqIdle: 0,
      reqMax: 0,
      limitsHit: "",
      refused: "unknown_entry",
      at: NOW,
    },
  ]);
  assert.deepEqual(plan.refused, [refusal]);
});

test("back-off after submitting: summed per entry; one success clears, all failed starts it", () => {
  const prev = new Map([["ce_b", { failures: 1, until: NOW - 1 }]]);
  const next = backoffAfter(
    prev,
    [
      { entry: "ce_a", submitted: 0, failed: 2, lastError: "first" },
      { entry: "ce_a", submitted: 0, failed: 1, lastError: "second" },
      { entry: "ce_b", submitted: 1, failed: 1 },
      { entry: "ce_c", submitted: 0, failed: 0 },
    ],
    NOW,
  );
  assert.deepEqual(next.get("ce_a"), {
    next: { failures: 1, until: NOW + 30_000, lastError: "first" },
    failed: 3,
  });
  assert.deepEqual(next.get("ce_b"), { next: undefined, failed: 1 });
  assert.deepEqual(next.get("ce_c"), { next: undefined, failed: 0 });
  assert.equal(next.has("ce_d"), false);
});

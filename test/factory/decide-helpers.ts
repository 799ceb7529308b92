/** Builders for decision snapshots: one entry, one frontend class, pilots by state. */
import type {
  ClientRequest,
  DecisionSnapshot,
  EntryPolicy,
  PilotState,
  TrackedPilot,
} from "../../src/factory/decide-types.js";

export const FE_DN = "/DC=org/DC=example/CN=frontend";
export const NOW = Date.UTC(2026, 5, 1);

export function entry(over: Partial<EntryPolicy> = {}): EntryPolicy {
  return {
    name: "e1",
    enabled: true,
    perEntry: {},
    perFrontend: {},
    maxPerCycle: 1000,
    removeMargin: 0,
    ...over,
  };
}

export function request(over: Partial<ClientRequest> = {}): ClientRequest {
  return {
    entry: "e1",
    client: "c1",
    frontend: "fe",
    securityClass: "main",
    authenticatedIdentity: FE_DN,
    reqIdle: 10,
    reqMax: 100,
    removeExcess: "NO",
    ...over,
  };
}

let nextId = 1;
export function pilots(
  n: number,
  state: PilotState,
  over: Partial<TrackedPilot> = {},
): TrackedPilot[] {
  return Array.from({ length: n }, () => ({
    id: nextId++,
    entry: "e1",
    client: "c1",
    securityClass: "main",
    state,
    submittedAt: NOW - 1000 + nextId,
    ...over,
  }));
}

export function snapshot(over: Partial<DecisionSnapshot> = {}): DecisionSnapshot {
  return {
    now: NOW,
    entries: [entry()],
    securityClasses: [{ frontend: "fe", name: "main", identity: FE_DN }],
    downtimes: [],
    requests: [request()],
    pilots: [],
    ...over,
  };
}

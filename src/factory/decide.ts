/**
 * The factory's submit/remove decision: a pure function of a snapshot. For each accepted
 * request it computes how many pilots to submit (bounded by the request and every limit, the
 * binding one named) and which pilots to remove. Requests are processed in a stable order and
 * each one's submissions count against the shared entry and frontend limits of the next.
 */
import type {
  ClientCounts,
  ClientDecision,
  ClientRequest,
  Decision,
  DecisionSnapshot,
  EntryPolicy,
  Limits,
  SubmitBound,
  TrackedPilot,
} from "./decide-types.js";
import { LIVE_STATES } from "./decide-types.js";
import { inDowntime } from "./downtime.js";
import { decideRemovals } from "./remove-excess.js";
import { checkRequest, requestContext } from "./request-check.js";

/** Mutable tallies of live pilots, updated as submissions are decided. */
interface Tally extends ClientCounts {
  total: number;
}

function emptyTally(): Tally {
  return { idle: 0, running: 0, held: 0, total: 0 };
}

function addPilot(t: Tally, p: TrackedPilot): void {
  if (p.state === "Unsubmitted" || p.state === "Idle") t.idle++;
  else if (p.state === "Running") t.running++;
  else if (p.state === "Held") t.held++;
  t.total++;
}

/** Per entry, a tally per inner key (security class or client), keyed in two steps. */
class EntryTallies<V> {
  private readonly byEntry = new Map<string, Map<string, V>>();

  constructor(private readonly make: () => V) {}

  find(entry: string, key: string): V | undefined {
    return this.byEntry.get(entry)?.get(key);
  }

  get(entry: string, key: string): V {
    let inner = this.byEntry.get(entry);
    if (inner === undefined) this.byEntry.set(entry, (inner = new Map()));
    let v = inner.get(key);
    if (v === undefined) inner.set(key, (v = this.make()));
    return v;
  }
}

export function frontendLimits(e: EntryPolicy, securityClass: string): Limits {
  return e.perFrontend[securityClass] ?? e.perFrontend["default"] ?? {};
}

export function decide(s: DecisionSnapshot): Decision {
  const ctx = requestContext(s.entries, s.securityClasses);
  // Two-step keys, not `entry + client` strings: 100,000 pilots would build and hash as many.
  const byEntry = new Map<string, Tally>();
  const byClass = new EntryTallies(emptyTally);
  const byClient = new EntryTallies(() => ({ tally: emptyTally(), pilots: [] as TrackedPilot[] }));
  const entryTally = (entry: string): Tally => {
    let t = byEntry.get(entry);
    if (!t) byEntry.set(entry, (t = emptyTally()));
    return t;
  };
  // Pilots come in runs of one (entry, client), as they were submitted: look up only on a change.
  let run: TrackedPilot | undefined;
  let entryT = emptyTally();
  let classT = entryT;
  let clientT = { tally: entryT, pilots: [] as TrackedPilot[] };
  for (const p of s.pilots) {
    if (!LIVE_STATES.has(p.state)) continue;
    if (run === undefined || p.entry !== run.entry) {
      entryT = entryTally(p.entry);
      run = undefined;
    }
    if (run === undefined || p.securityClass !== run.securityClass) {
      classT = byClass.get(p.entry, p.securityClass);
    }
    if (run === undefined || p.client !== run.client) clientT = byClient.get(p.entry, p.client);
    run = p;
    addPilot(entryT, p);
    addPilot(classT, p);
    addPilot(clientT.tally, p);
    clientT.pilots.push(p);
  }

  const decision: Decision = { clients: [], refused: [] };
  const ordered = [...s.requests].sort((a, b) => cmp(a.entry, b.entry) || cmp(a.client, b.client));
  for (const r of ordered) {
    const reason = checkRequest(r, ctx);
    if (reason) {
      decision.refused.push({
        entry: r.entry,
        client: r.client,
        frontend: r.frontend,
        securityClass: r.securityClass,
        authenticatedIdentity: r.authenticatedIdentity,
        reason,
      });
      continue;
    }
    const entry = ctx.entries.get(r.entry)!;
    const client = byClient.find(r.entry, r.client) ?? { tally: emptyTally(), pilots: [] };
    const entryT = entryTally(r.entry);
    const classT = byClass.get(r.entry, r.securityClass);
    const d = decideClient(s, r, entry, client.tally, client.pilots, entryT, classT);
    // Later requests see these submissions against the shared limits.
    for (const t of [entryT, classT]) {
      t.idle += d.submit;
      t.total += d.submit;
    }
    decision.clients.push(d);
  }
  return decision;
}

/** The rules that bound a submission, in the order decideClient weighs them. */
const SUBMIT_BOUNDS: readonly SubmitBound[] = [
  "requested",
  "ReqMaxGlideins",
  "entry.max_glideins",
  "entry.max_idle",
  "frontend.max_glideins",
  "frontend.max_idle",
  "max_per_cycle",
];

function decideClient(
  s: DecisionSnapshot,
  r: ClientRequest,
  entry: EntryPolicy,
  client: Tally,
  pilots: readonly TrackedPilot[],
  entryT: Tally,
  classT: Tally,
): ClientDecision {
  const counts: ClientCounts = { idle: client.idle, running: client.running, held: client.held };
  const remove = decideRemovals({
    mode: r.removeExcess,
    margin: r.removeMargin ?? entry.removeMargin,
    reqIdle: r.reqIdle,
    reqMax: r.reqMax,
    counts,
    pilots,
  });
  const fe = frontendLimits(entry, r.securityClass);
  const blocked = (b: SubmitBound): ClientDecision => ({
    entry: r.entry,
    client: r.client,
    frontend: r.frontend,
    securityClass: r.securityClass,
    reqIdle: r.reqIdle,
    reqMax: r.reqMax,
    submit: 0,
    boundBy: b,
    limitsHit: [b],
    remove,
    counts,
  });
  if (inDowntime(s.downtimes, r.entry, s.now, r.frontend)) return blocked("downtime");
  if (entry.perEntry.maxHeld !== undefined && entryT.held >= entry.perEntry.maxHeld) {
    return blocked("entry.max_held");
  }
  if (fe.maxHeld !== undefined && classT.held >= fe.maxHeld) return blocked("frontend.max_held");
  if (remove.length > 0) return blocked("removing_excess");

  // Each bound is the room left under one rule of SUBMIT_BOUNDS, in its order; the smallest
  // wins and is named. (Values only, not name and value pairs: ten thousand requests a cycle.)
  const rooms: (number | undefined)[] = [
    r.reqIdle - client.idle,
    r.reqMax - client.total,
    room(entry.perEntry.maxGlideins, entryT.total),
    room(entry.perEntry.maxIdle, entryT.idle),
    room(fe.maxGlideins, classT.total),
    room(fe.maxIdle, classT.idle),
    entry.maxPerCycle,
  ];
  let min = Infinity;
  let boundBy: SubmitBound = "requested";
  for (let i = 0; i < rooms.length; i++) {
    const value = rooms[i];
    if (value !== undefined && value < min) {
      min = value;
      boundBy = SUBMIT_BOUNDS[i]!;
    }
  }
  // A limit is "hit" when it, not the request (the first bound), is what stops further pilots.
  const asked = r.reqIdle - client.idle;
  const limitsHit: SubmitBound[] = [];
  if (min < asked) {
    for (let i = 1; i < rooms.length; i++) {
      const value = rooms[i];
      if (value !== undefined && value <= min) limitsHit.push(SUBMIT_BOUNDS[i]!);
    }
  }
  return {
    entry: r.entry,
    client: r.client,
    frontend: r.frontend,
    securityClass: r.securityClass,
    reqIdle: r.reqIdle,
    reqMax: r.reqMax,
    submit: Math.max(0, min),
    boundBy,
    limitsHit,
    remove,
    counts,
  };
}

function room(limit: number | undefined, used: number): number | undefined {
  return limit === undefined ? undefined : limit - used;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

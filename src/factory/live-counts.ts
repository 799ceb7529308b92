/**
 * Live pilots counted per entry, per (entry, client) and per (entry, client, credential), kept in
 * step with every change the store makes, so that a cycle reads its counts instead of walking
 * 100,000 pilots again.
 */
import type { ClientCounts, PilotState } from "./decide-types.js";

export interface EntryCounts {
  total: ClientCounts;
  clients: Map<string, ClientCounts>;
}

const NONE: ReadonlyMap<string, number> = new Map();

function credentialKey(entry: string, client: string): string {
  return `${entry}\u0000${client}`;
}

/** Unsubmitted and Idle pilots both count as idle, as the GlideFactoryClient ad counts them. */
function field(state: PilotState): keyof ClientCounts {
  return state === "Running" ? "running" : state === "Held" ? "held" : "idle";
}

export class LiveCounts {
  private readonly byEntry = new Map<string, EntryCounts>();
  /** Unsubmitted intents per entry and client, which `idle` counts with Idle pilots. */
  private readonly unsubmittedBy = new Map<string, Map<string, number>>();
  /** Live pilots per credential id, keyed by entry and client (a pilot's credential never changes). */
  private readonly credentialsBy = new Map<string, Map<string, number>>();

  /** Counts by entry; entries and clients whose pilots all left stay, at zero. */
  get entries(): ReadonlyMap<string, Readonly<EntryCounts>> {
    return this.byEntry;
  }

  /** Unsubmitted intents of a client at an entry (counted in `idle` too). */
  unsubmitted(entry: string, client: string): number {
    return this.unsubmittedBy.get(entry)?.get(client) ?? 0;
  }

  /** Whether any intent is still unsubmitted. */
  anyUnsubmitted(): boolean {
    return this.unsubmittedBy.size > 0;
  }

  /** Live pilots of a client at an entry per credential id (credentials with none are absent). */
  byCredential(entry: string, client: string): ReadonlyMap<string, number> {
    return this.credentialsBy.get(credentialKey(entry, client)) ?? NONE;
  }

  /** Every credential id some live pilot uses. */
  credentialIds(): Set<string> {
    const ids = new Set<string>();
    for (const m of this.credentialsBy.values()) for (const id of m.keys()) ids.add(id);
    return ids;
  }

  add(entry: string, client: string, state: PilotState, credentialId: string): void {
    this.bump(entry, client, field(state), 1);
    if (state === "Unsubmitted") this.bumpUnsubmitted(entry, client, 1);
    this.bumpCredential(entry, client, credentialId, 1);
  }

  remove(entry: string, client: string, state: PilotState, credentialId: string): void {
    this.bump(entry, client, field(state), -1);
    if (state === "Unsubmitted") this.bumpUnsubmitted(entry, client, -1);
    this.bumpCredential(entry, client, credentialId, -1);
  }

  move(entry: string, client: string, from: PilotState, to: PilotState): void {
    if (from === "Unsubmitted" && to !== "Unsubmitted") this.bumpUnsubmitted(entry, client, -1);
    if (to === "Unsubmitted" && from !== "Unsubmitted") this.bumpUnsubmitted(entry, client, 1);
    const a = field(from);
    const b = field(to);
    if (a === b) return;
    this.bump(entry, client, a, -1);
    this.bump(entry, client, b, 1);
  }

  clear(): void {
    this.byEntry.clear();
    this.unsubmittedBy.clear();
    this.credentialsBy.clear();
  }

  private bumpCredential(entry: string, client: string, id: string, by: number): void {
    const key = credentialKey(entry, client);
    let m = this.credentialsBy.get(key);
    if (m === undefined) this.credentialsBy.set(key, (m = new Map()));
    const n = (m.get(id) ?? 0) + by;
    if (n === 0) m.delete(id);
    else m.set(id, n);
    if (m.size === 0) this.credentialsBy.delete(key);
  }

  private bumpUnsubmitted(entry: string, client: string, by: number): void {
    let e = this.unsubmittedBy.get(entry);
    if (e === undefined) this.unsubmittedBy.set(entry, (e = new Map()));
    const n = (e.get(client) ?? 0) + by;
    if (n === 0) e.delete(client);
    else e.set(client, n);
    if (e.size === 0) this.unsubmittedBy.delete(entry);
  }

  private bump(entry: string, client: string, f: keyof ClientCounts, by: number): void {
    let e = this.byEntry.get(entry);
    if (e === undefined) {
      e = { total: { idle: 0, running: 0, held: 0 }, clients: new Map() };
      this.byEntry.set(entry, e);
    }
    let c = e.clients.get(client);
    if (c === undefined) e.clients.set(client, (c = { idle: 0, running: 0, held: 0 }));
    c[f] += by;
    e.total[f] += by;
  }
}

/**
 * The rows of `updraft factory status`: per (entry, client), pilots by state, what was asked,
 * limits hit, failures and the last error, read from the factory's database.
 */
import type { FactoryStore } from "./store.js";

export interface StatusRow {
  entry: string;
  client: string;
  idle: number;
  running: number;
  held: number;
  reqIdle: number;
  reqMax: number;
  limitsHit: string;
  refused: string;
  submitted: number;
  finished: number;
  failed: number;
  lastError: string;
}

export function statusRows(store: FactoryStore, entry?: string): StatusRow[] {
  const rows = new Map<string, StatusRow>();
  const row = (e: string, c: string): StatusRow => {
    const k = `${e}\u0000${c}`;
    let r = rows.get(k);
    if (!r) {
      r = {
        entry: e,
        client: c,
        idle: 0,
        running: 0,
        held: 0,
        reqIdle: 0,
        reqMax: 0,
        limitsHit: "",
        refused: "",
        submitted: 0,
        finished: 0,
        failed: 0,
        lastError: "",
      };
      rows.set(k, r);
    }
    return r;
  };
  for (const p of store.live()) {
    const r = row(p.entry, p.client);
    if (p.state === "Idle" || p.state === "Unsubmitted") r.idle++;
    else if (p.state === "Running") r.running++;
    else if (p.state === "Held") r.held++;
  }
  for (const s of store.clientStatuses()) {
    const r = row(s.entry, s.client);
    r.reqIdle = s.reqIdle;
    r.reqMax = s.reqMax;
    r.limitsHit = s.limitsHit;
    r.refused = s.refused ?? "";
  }
  for (const c of store.counters()) {
    // Per-entry counters (client "") and the rest have no column here.
    if (c.name !== "submitted" && c.name !== "finished" && c.name !== "failed") continue;
    const r = row(c.entry, c.client);
    if (c.name === "submitted") r.submitted = c.value;
    if (c.name === "finished") r.finished = c.value;
    if (c.name === "failed") r.failed = c.value;
  }
  for (const e of store.lastErrors()) row(e.entry, e.client).lastError = e.message;
  return [...rows.values()]
    .filter((r) => entry === undefined || r.entry === entry)
    .sort((a, b) => (a.entry + a.client < b.entry + b.client ? -1 : 1));
}

export function formatStatusTable(rows: readonly StatusRow[]): string {
  const head = [
    "ENTRY",
    "CLIENT",
    "IDLE",
    "RUN",
    "HELD",
    "REQ_IDLE",
    "REQ_MAX",
    "LIMITS",
    "FAILED",
    "LAST_ERROR",
  ];
  const body = rows.map((r) => [
    r.entry,
    r.client,
    String(r.idle),
    String(r.running),
    String(r.held),
    String(r.reqIdle),
    String(r.reqMax),
    r.refused ? `refused:${r.refused}` : r.limitsHit || "-",
    String(r.failed),
    r.lastError || "-",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(head), ...body.map(line)].join("\n") + "\n";
}

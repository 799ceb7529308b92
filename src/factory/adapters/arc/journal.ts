/**
 * The adapter's own record of what it sent to the CE, kept across factory restarts: an
 * append-only JSON-lines file in the adapter's state directory, synced before each call returns.
 *
 *   intent   written before the POST: this pilot (intent id, job name) may exist on the CE
 *   job      written after the POST: the CE's id for it
 *   failed   the CE refused it; nothing to look for
 *   removed  the factory asked the CE to kill this job
 *   purge    the factory is done with this job: clean it from the CE
 *   cleaned  the CE no longer knows the job
 *   deleg    a delegation made on the CE for a credential, and until when it is valid
 *
 * `bearer` on intent, job, purge and deleg records: the token file the job (or delegation) was
 * made with, when the entry submits with its frontends' tokens. A-REX keeps a job for the
 * token's subject alone, so every later call about it must carry a token of that subject.
 *
 * A journal that has grown well past what its state needs is rewritten (atomically) when opened.
 *
 * A pilot with an intent but no job record (a crash between the POST and the write) is looked up
 * on the CE by its job name when the adapter recovers.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { readBoundedText } from "../../../common/bounded-read.js";
import { UpdraftError } from "../../../common/errors.js";

/** Largest journal read at start: far past the records of the pilots an entry can hold. */
const MAX_JOURNAL_BYTES = 256 << 20;

/** A journal with this many more records than its state needs is rewritten when opened. */
const COMPACT_SLACK = 1000;

export type JournalRecord =
  | { t: "intent"; intent: number; name: string; bearer?: string }
  | { t: "job"; intent: number; name: string; id: string; bearer?: string }
  | { t: "failed"; name: string }
  | { t: "purge"; id: string; bearer?: string }
  | { t: "cleaned"; id: string }
  | { t: "removed"; id: string }
  | {
      t: "deleg";
      key: string;
      id: string;
      credentialFile: string;
      notAfter: number;
      bearer?: string;
    };

export interface DelegationRecord {
  id: string;
  credentialFile: string;
  notAfter: number;
  /** The token file the delegation was made with (its subject owns it on the CE). */
  bearer?: string;
}

export interface JournalState {
  /** CE job id -> intent id and job name, in submission order. */
  jobs: Map<string, { intent: number; name: string }>;
  /** CE job ids the adapter killed: gone from the CE afterwards still reads Removed. */
  removed: Set<string>;
  /** Job names sent (or about to be sent) whose CE id is not known. */
  pending: Map<string, number>;
  /** CE job ids the factory is done with that the CE has not yet agreed to clean. */
  unclean: Set<string>;
  /** Credential key -> the delegation made for it. */
  delegations: Map<string, DelegationRecord>;
  /** CE job id or pending job name -> the token file every call about it carries. */
  bearers: Map<string, string>;
}

export function emptyJournalState(): JournalState {
  return {
    jobs: new Map(),
    removed: new Set(),
    pending: new Map(),
    unclean: new Set(),
    delegations: new Map(),
    bearers: new Map(),
  };
}

/** Fold one record into the state (pure). */
export function applyRecord(s: JournalState, r: JournalRecord): void {
  switch (r.t) {
    case "intent":
      s.pending.set(r.name, r.intent);
      if (r.bearer !== undefined) s.bearers.set(r.name, r.bearer);
      break;
    case "job":
      s.pending.delete(r.name);
      s.bearers.delete(r.name);
      s.jobs.set(r.id, { intent: r.intent, name: r.name });
      if (r.bearer !== undefined) s.bearers.set(r.id, r.bearer);
      break;
    case "failed":
      s.pending.delete(r.name);
      s.bearers.delete(r.name);
      break;
    case "removed":
      s.removed.add(r.id);
      break;
    case "purge":
      s.jobs.delete(r.id);
      s.removed.delete(r.id);
      s.unclean.add(r.id);
      if (r.bearer !== undefined) s.bearers.set(r.id, r.bearer);
      break;
    case "cleaned":
      s.unclean.delete(r.id);
      s.bearers.delete(r.id);
      break;
    case "deleg":
      s.delegations.set(r.key, {
        id: r.id,
        credentialFile: r.credentialFile,
        notAfter: r.notAfter,
        ...(r.bearer !== undefined ? { bearer: r.bearer } : {}),
      });
      break;
  }
}

/** A journal file with a line that is not a record: damaged, or not the adapter's. */
export class ArcJournalError extends UpdraftError {
  readonly code = "arc-journal";
  override name = "ArcJournalError";
}

/** Parse the file's text; a bad line is an error naming the file and line. */
export function parseJournal(text: string, file: string): JournalState {
  const s = emptyJournalState();
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let r: JournalRecord;
    try {
      r = JSON.parse(line) as JournalRecord;
    } catch {
      throw new ArcJournalError(`${file}:${i + 1}: not a JSON record`);
    }
    applyRecord(s, r);
  });
  return s;
}

/** The shortest list of records that folds into the same state (pure). */
export function stateRecords(s: JournalState): JournalRecord[] {
  const bearer = (k: string) => {
    const b = s.bearers.get(k);
    return b !== undefined ? { bearer: b } : {};
  };
  return [
    ...[...s.pending].map(([name, intent]): JournalRecord => ({
      t: "intent",
      intent,
      name,
      ...bearer(name),
    })),
    ...[...s.jobs].map(([id, j]): JournalRecord => ({
      t: "job",
      intent: j.intent,
      name: j.name,
      id,
      ...bearer(id),
    })),
    ...[...s.removed].map((id): JournalRecord => ({ t: "removed", id })),
    ...[...s.unclean].map((id): JournalRecord => ({ t: "purge", id, ...bearer(id) })),
    ...[...s.delegations].map(([key, d]): JournalRecord => ({
      t: "deleg",
      key,
      id: d.id,
      credentialFile: d.credentialFile,
      notAfter: d.notAfter,
      ...(d.bearer !== undefined ? { bearer: d.bearer } : {}),
    })),
  ];
}

/** Replace the file with `records`, atomically: a crash leaves the old file or the new one. */
function rewrite(file: string, records: readonly JournalRecord[]): void {
  const tmp = `${file}.compact`;
  writeFileSync(tmp, records.map((r) => JSON.stringify(r) + "\n").join(""), { mode: 0o600 });
  const fd = openSync(tmp, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export interface Journal {
  readonly state: JournalState;
  append(records: readonly JournalRecord[]): void;
}

export function openJournal(file: string): Journal {
  let text = "";
  try {
    text = readBoundedText(file, MAX_JOURNAL_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (text !== "" && !text.endsWith("\n")) {
    // A torn last line (a crash mid-write) goes, so the next record starts on a line of its own.
    const keep = text.slice(0, text.lastIndexOf("\n") + 1);
    truncateSync(file, Buffer.byteLength(keep));
    text = keep;
  }
  const state = parseJournal(text, file);
  // Finished pilots leave records behind; a long-lived factory would otherwise read them all at
  // every start.
  const live = stateRecords(state);
  if (text.split("\n").length - 1 > live.length + COMPACT_SLACK) rewrite(file, live);
  return {
    state,
    append(records) {
      if (records.length === 0) return;
      const fd = openSync(file, "a", 0o600);
      try {
        writeSync(fd, records.map((r) => JSON.stringify(r) + "\n").join(""));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      for (const r of records) applyRecord(state, r);
    },
  };
}

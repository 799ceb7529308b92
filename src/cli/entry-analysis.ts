/**
 * The entries part of `q -better-analyze`: which factory entries would run the job, pilots or
 * not. A job with no slot yet is not stuck when an entry matches it: its frontend asks that
 * entry's factory for pilots. An entry matches when a frontend group considers it (its
 * GlideResource ad for the entry) and the group's match expression, as that ad states it, holds
 * with the job as MY and the entry's GlideFactory ad as TARGET, as the frontend evaluates it.
 * Pure: ads in, verdicts and text out.
 */
import {
  ClassAd,
  compileExpression,
  createEvalBudget,
  isTrueEquivalent,
  tryParse,
  type CompiledExpr,
} from "../classad/index.js";
import { COMMON, GLIDE_FACTORY as F, GLIDE_RESOURCE as R, SLOT } from "../ads/names.js";
import { isDynamicSlot } from "../ads/slot.js";

type WireAd = Readonly<Record<string, string>>;

export interface EntryAds {
  /** GlideFactory ads: the entries. */
  factories: readonly WireAd[];
  /** GlideResource ads: which frontend group considers which entry, with its match expression. */
  resources: readonly WireAd[];
}

export interface EntryVerdict {
  /** The GlideFactory ad's Name (`entry@factory`). */
  entry: string;
  /** Groups (`frontend.group`) whose match expression takes the job here. */
  groups: string[];
  /** False when no frontend group asks for pilots at this entry. */
  considered: boolean;
  inDowntime: boolean;
  /** The entry's pilots now in the pool (their partitionable slots). */
  pilots: number;
}

/** Evaluation steps one match expression may take against one entry: a user's job is input. */
const MATCH_STEPS = 100_000;

function parse(attrs: WireAd): ClassAd | undefined {
  try {
    return ClassAd.fromJSON(attrs);
  } catch {
    return undefined;
  }
}

export function entryVerdicts(
  job: ClassAd,
  ads: EntryAds,
  slots: readonly ClassAd[],
  nowS: number,
): EntryVerdict[] {
  const pilots = new Map<string, number>();
  for (const s of slots) {
    if (isDynamicSlot(s)) continue;
    const key = `${s.getString(SLOT.EntryName)}\u0000${s.getString(SLOT.Factory)}`;
    pilots.set(key, (pilots.get(key) ?? 0) + 1);
  }
  // Each group's match expression for each entry it considers; text compiled once.
  const compiled = new Map<string, CompiledExpr | undefined>();
  const byEntry = new Map<string, { group: string; expr: CompiledExpr | undefined }[]>();
  for (const attrs of ads.resources) {
    const r = parse(attrs);
    const entry = r?.getString(R.GlideFactoryEntry);
    const group = r?.getString(R.GlideClientName);
    const text = r?.getString(R.MatchExpr);
    if (!entry || !group || text === undefined) continue;
    if (!compiled.has(text)) {
      const c = tryParse(() => compileExpression(text));
      compiled.set(text, c.ok ? c.value : undefined);
    }
    const list = byEntry.get(entry) ?? [];
    byEntry.set(entry, list);
    list.push({ group, expr: compiled.get(text) });
  }
  const ctx = { now: () => nowS };
  const out: EntryVerdict[] = [];
  for (const attrs of ads.factories) {
    const e = parse(attrs);
    const name = e?.getString(COMMON.Name);
    if (!e || !name) continue;
    const considered = byEntry.get(name) ?? [];
    const groups = considered
      .filter(({ expr }) => {
        if (expr === undefined) return false;
        const options = { ctx: { ...ctx, budget: createEvalBudget(MATCH_STEPS) } };
        return isTrueEquivalent(job.evaluateExpr(expr, e, options));
      })
      .map(({ group }) => group);
    const downtime = e.evaluate(F.InDowntime);
    out.push({
      entry: name,
      groups: [...new Set(groups)].sort(),
      considered: considered.length > 0,
      inDowntime: downtime === true || downtime === "True" || downtime === "true",
      pilots: pilots.get(`${e.getString(F.EntryName)}\u0000${e.getString(F.FactoryName)}`) ?? 0,
    });
  }
  return out.sort((a, b) => a.entry.localeCompare(b.entry));
}

/** The lines `q -better-analyze` prints for the entries, and the count line glideinWMS users read. */
export function formatEntryVerdicts(verdicts: readonly EntryVerdict[]): string {
  if (verdicts.length === 0) return "";
  const width = Math.max(...verdicts.map((v) => v.entry.length));
  let out = `\nEntries for pilots (GlideFactory ads, by each frontend group's match expression):\n`;
  for (const v of verdicts) {
    const what = !v.considered
      ? "no frontend group asks for pilots here"
      : v.groups.length === 0
        ? "does not match"
        : `matches for ${v.groups.join(", ")}; ` +
          (v.pilots === 0 ? "no pilots yet" : `${v.pilots} pilot${v.pilots === 1 ? "" : "s"}`) +
          (v.inDowntime ? " (in downtime: no new pilots)" : "");
    out += `    ${v.entry.padEnd(width)}  ${what}\n`;
  }
  const matching = verdicts.filter((v) => v.groups.length > 0);
  const waiting = matching.filter((v) => v.pilots === 0 && !v.inDowntime);
  out += `  ${matching.length} entr${matching.length === 1 ? "y matches" : "ies match"}`;
  out += `, ${waiting.length} with no pilots yet\n`;
  return out;
}

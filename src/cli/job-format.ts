/**
 * How job ads print, as condor_q and condor_history print them: the default batch table, the
 * -nobatch table, -hold and -run columns, -af values, -long ads, -json, and the totals line.
 * Pure functions of ads (attribute -> expression text) and `now`.
 */
import {
  ClassAd,
  UNDEFINED,
  adsJson,
  unparseValue,
  type CompiledExpr,
  type Value,
} from "../classad/index.js";
import type { JobAttrs } from "../schedd/job-status.js";
import { JOB } from "../ads/index.js";

const ST = ["?", "I", "R", "X", "C", "H", ">", "S"];

/** A value as -af prints it: strings bare, the rest in ClassAd syntax. */
export function plain(v: Value): string {
  return typeof v === "string" ? v : unparseValue(v);
}

function date(s: number): string {
  if (s === 0) return "?";
  const d = new Date(s * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function duration(s: number): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const d = Math.floor(s / 86400);
  return `${d}+${p(Math.floor((s % 86400) / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

function runTime(ad: ClassAd, nowS: number): number {
  const start = ad.getInteger(JOB.JobCurrentStartDate) ?? 0;
  return (
    (ad.getInteger(JOB.RemoteWallClockTime) ?? 0) +
    ((ad.getInteger(JOB.JobStatus) ?? 0) === 2 && start > 0 ? nowS - start : 0)
  );
}

function id(ad: ClassAd): string {
  return `${ad.getInteger(JOB.ClusterId) ?? 0}.${ad.getInteger(JOB.ProcId) ?? 0}`;
}

/** condor_q's `-af:FLAGS`: `h` header, `j` job id first, `l` `name = value`, `t` tabs, `,` commas. */
export interface AfFlags {
  header?: boolean;
  jobId?: boolean;
  label?: boolean;
  separator?: string;
}

/** Read the letters after `-af:` as condor_q does; unknown letters are an error message. */
export function parseAfFlags(text: string): AfFlags | string {
  const f: AfFlags = {};
  for (const c of text) {
    if (c === "h") f.header = true;
    else if (c === "j") f.jobId = true;
    else if (c === "l") f.label = true;
    else if (c === "t") f.separator = "\t";
    else if (c === ",") f.separator = ",";
    else if (c === "r" || c === "V")
      continue; // values print as they are
    else return `-af:${text}: unknown flag '${c}' (use h, j, l, t, r or ,)`;
  }
  return f;
}

/** -af: each expression (an attribute name, or any ClassAd expression) evaluated per job. */
export function afLines(
  ads: readonly JobAttrs[],
  exprs: readonly { text: string; expr: CompiledExpr }[],
  flags: AfFlags = {},
): string[] {
  const sep = flags.separator ?? " ";
  const lines: string[] = [];
  if (flags.header && !flags.label) {
    lines.push([...(flags.jobId ? ["ID"] : []), ...exprs.map((e) => e.text)].join(sep));
  }
  for (const a of ads) {
    const ad = ClassAd.fromJSON(a);
    const cells = exprs.map((e) => {
      let v: Value;
      try {
        v = ad.evaluateExpr(e.expr);
      } catch {
        v = UNDEFINED;
      }
      return flags.label ? `${e.text} = ${unparseValue(v)}` : plain(v);
    });
    if (flags.jobId) cells.unshift(flags.label ? `ID = ${id(ad)}` : id(ad));
    lines.push(cells.join(sep));
  }
  return lines;
}

export function longForm(ads: readonly JobAttrs[]): string {
  return ads.map((a) => `${ClassAd.fromJSON(a).toString("old")}\n`).join("\n");
}

/** condor_q -json: literals as JSON values, other expressions as "\/Expr(...)\/". */
export function jsonForm(ads: readonly JobAttrs[]): string {
  return adsJson(ads.map((a) => ClassAd.fromJSON(a).attributeExprs()));
}

export function nobatchTable(ads: readonly JobAttrs[], nowS: number): string[] {
  const lines = [" ID        OWNER          SUBMITTED     RUN_TIME ST PRI  SIZE CMD"];
  for (const a of ads) {
    const ad = ClassAd.fromJSON(a);
    const cmd = `${ad.getString(JOB.Cmd) ?? ""} ${ad.getString(JOB.Arguments) ?? ""}`.trim();
    lines.push(
      ` ${id(ad).padEnd(9)} ${(ad.getString(JOB.Owner) ?? "").padEnd(14)} ${date(ad.getInteger(JOB.QDate) ?? 0)} ` +
        `${duration(runTime(ad, nowS))} ${ST[ad.getInteger(JOB.JobStatus) ?? 0] ?? "?"}  ` +
        `${String(ad.getInteger(JOB.JobPrio) ?? 0).padEnd(3)} ${((ad.getInteger(JOB.ImageSize) ?? 0) / 1024).toFixed(1).padStart(5)} ${cmd}`,
    );
  }
  return lines;
}

export function holdTable(ads: readonly JobAttrs[]): string[] {
  const lines = [" ID        OWNER           HELD_SINCE  HOLD_REASON"];
  for (const a of ads) {
    const ad = ClassAd.fromJSON(a);
    lines.push(
      ` ${id(ad).padEnd(9)} ${(ad.getString(JOB.Owner) ?? "").padEnd(14)}  ${date(ad.getInteger(JOB.EnteredCurrentStatus) ?? 0)} ${ad.getString(JOB.HoldReason) ?? ""}`,
    );
  }
  return lines;
}

export function runTable(ads: readonly JobAttrs[], nowS: number): string[] {
  const lines = [" ID        OWNER          SUBMITTED     RUN_TIME HOST(S)"];
  for (const a of ads) {
    const ad = ClassAd.fromJSON(a);
    lines.push(
      ` ${id(ad).padEnd(9)} ${(ad.getString(JOB.Owner) ?? "").padEnd(14)} ${date(ad.getInteger(JOB.QDate) ?? 0)} ` +
        `${duration(runTime(ad, nowS))} ${ad.getString(JOB.RemoteHost) ?? ""}`,
    );
  }
  return lines;
}

/** The default view: one line per owner and batch (JobBatchName, else the cluster). */
export function batchTable(ads: readonly JobAttrs[]): string[] {
  type Row = {
    owner: string;
    batch: string;
    qdate: number;
    counts: number[];
    ids: number[];
    /** TotalSubmitProcs of late-materializing clusters: jobs not yet in the queue count too. */
    declared: Map<number, number>;
  };
  const rows = new Map<string, Row>();
  for (const a of ads) {
    const ad = ClassAd.fromJSON(a);
    const owner = ad.getString(JOB.Owner) ?? "";
    const batch = ad.getString(JOB.JobBatchName) || `ID: ${ad.getInteger(JOB.ClusterId) ?? 0}`;
    const key = `${owner}\0${batch}`;
    let r = rows.get(key);
    if (!r) {
      r = {
        owner,
        batch,
        qdate: ad.getInteger(JOB.QDate) ?? 0,
        counts: [0, 0, 0, 0, 0, 0, 0, 0],
        ids: [],
        declared: new Map(),
      };
      rows.set(key, r);
    }
    r.counts[ad.getInteger(JOB.JobStatus) ?? 0]!++;
    r.ids.push(ad.getInteger(JOB.ClusterId) ?? 0);
    const declared = ad.getInteger(JOB.TotalSubmitProcs) ?? 0;
    if (declared > 0) r.declared.set(ad.getInteger(JOB.ClusterId) ?? 0, declared);
  }
  const lines = [
    "OWNER          BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS",
  ];
  for (const r of rows.values()) {
    const c = r.counts;
    const cell = (n: number) => (n === 0 ? "_" : String(n)).padEnd(6);
    const clusters = [...new Set(r.ids)];
    let total = 0;
    for (const id of clusters) {
      const seen = r.ids.filter((x) => x === id).length;
      total += Math.max(seen, r.declared.get(id) ?? 0);
    }
    const range = clusters.length === 1 ? `${clusters[0]}` : `${clusters[0]}-${clusters.at(-1)}`;
    lines.push(
      `${r.owner.padEnd(14)} ${r.batch.padEnd(15)} ${date(r.qdate)} ${cell(c[4]! + c[3]!)} ` +
        `${cell(c[2]!)} ${cell(c[1]!)} ${cell(c[5]!)} ${String(total).padEnd(5)} ${range}`,
    );
  }
  return lines;
}

/** condor_q's totals line: `Total for WHO: N jobs; ...` */
export function totalsLine(ads: readonly JobAttrs[], who = "query"): string {
  const c = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const a of ads) {
    const s = Number(a.JobStatus ?? 0);
    if (s >= 0 && s < c.length) c[s]!++;
  }
  return (
    `Total for ${who}: ${ads.length} jobs; ${c[4]} completed, ${c[3]} removed, ${c[1]} idle, ` +
    `${c[2]} running, ${c[5]} held, ${c[7]} suspended`
  );
}

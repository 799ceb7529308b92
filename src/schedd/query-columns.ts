/**
 * What a query's constraint says about a job's status, cluster and proc, which the queue and
 * history tables keep as columns beside the ad: rows whose columns contradict the constraint are
 * left in the database, unread, instead of each being read, built into an ad and evaluated. Only conjuncts of the form `JobStatus == 2` (either
 * side, integers, unscoped names) at the top level of `&&`s count; an `&&` is false whenever one
 * of its sides is, so skipping such a row never drops a match. Anything else selects every row,
 * and each row kept is still checked against the whole constraint.
 */
import { parseExpression, type Expr } from "../classad/index.js";
import { JOB } from "../ads/index.js";

/** A job row's columns. */
export interface JobColumns {
  cluster: number;
  proc: number;
  status: number;
}

const COLUMNS: Record<string, keyof JobColumns> = {
  [JOB.JobStatus.toLowerCase()]: "status",
  [JOB.ClusterId.toLowerCase()]: "cluster",
  [JOB.ProcId.toLowerCase()]: "proc",
};

/** The columns the constraint pins to one integer each, or undefined when it pins none. */
export function pinnedColumns(constraint: string): Partial<JobColumns> | undefined {
  if (constraint.trim() === "") return undefined;
  let tree: Expr;
  try {
    tree = parseExpression(constraint);
  } catch {
    return undefined; // the query itself reports the syntax error
  }
  const pinned: Partial<JobColumns> = {};
  let any = false;
  const visit = (e: Expr): void => {
    if (e.kind === "paren") return visit(e.inner);
    if (e.kind !== "binary") return;
    if (e.op === "&&") {
      visit(e.left);
      visit(e.right);
      return;
    }
    if (e.op !== "==") return;
    const [name, value] = e.left.kind === "attr" ? [e.left, e.right] : [e.right, e.left];
    if (name.kind !== "attr" || name.absolute || value.kind !== "literal") return;
    const column = COLUMNS[name.name.toLowerCase()];
    const v = value.value;
    if (column === undefined || typeof v !== "number" || !Number.isSafeInteger(v)) return;
    // Two different values for one column: no row can match; keep the first, the check drops all.
    if (pinned[column] === undefined) pinned[column] = v;
    any = true;
  };
  visit(tree);
  return any ? pinned : undefined;
}

/**
 * The SQL condition selecting the rows whose columns have the pinned values ("" when nothing is
 * pinned), with its parameters; column names come from this file only.
 */
export function pinnedWhere(pinned: Partial<JobColumns> | undefined): {
  sql: string;
  params: number[];
} {
  const terms: string[] = [];
  const params: number[] = [];
  for (const column of ["cluster", "proc", "status"] as const) {
    const v = pinned?.[column];
    if (v === undefined) continue;
    terms.push(`${column} = ?`);
    params.push(v);
  }
  return { sql: terms.length === 0 ? "" : `WHERE ${terms.join(" AND ")}`, params };
}

/**
 * One statement for many rows of the same shape (a cycle's intents, state changes and client
 * status: thousands each at 500 entries and 20 clients), up to `ROWS_PER_RUN` to a run. The
 * statements for 1, 2, 4 ... 128 rows are prepared at once, so a write never prepares a statement
 * and a remainder takes at most seven runs. (An update of one row by its key measured as cheap
 * per row as any batched form, so `recordSubmitted` and the counters keep one run per row.)
 */
import type { Database as Db, Statement } from "better-sqlite3";

/** Rows per statement run: far below SQLite's bound on parameters at ten columns a row. */
export const ROWS_PER_RUN = 128;

export class BatchStatement {
  /** The statement for `2 ** i` rows at index `i`. */
  private readonly prepared: Statement[] = [];

  /**
   * `sql(values)` is the statement with `values` in place of its rows: `(?, ?), (?, ?)` for two
   * rows of `columns` parameters each.
   */
  constructor(
    db: Db,
    private readonly columns: number,
    sql: (values: string) => string,
  ) {
    const row = `(${Array.from({ length: columns }, () => "?").join(", ")})`;
    for (let n = 1; n <= ROWS_PER_RUN; n *= 2) {
      this.prepared.push(db.prepare(sql(Array.from({ length: n }, () => row).join(", "))));
    }
  }

  /** Runs the statement over `rows` (each `columns` parameters). */
  run(rows: readonly (readonly unknown[])[]): void {
    this.each(rows, (st, params) => st.run(params));
  }

  /** As `run`, for a statement with RETURNING: the rows it returns, of every run. */
  all<T>(rows: readonly (readonly unknown[])[]): T[] {
    const out: T[] = [];
    this.each(rows, (st, params) => {
      for (const r of st.all(params) as T[]) out.push(r);
    });
    return out;
  }

  private each(
    rows: readonly (readonly unknown[])[],
    call: (st: Statement, params: unknown[]) => void,
  ): void {
    const params: unknown[] = [];
    let k = 0;
    for (let i = this.prepared.length - 1; i >= 0; i--) {
      const n = 2 ** i;
      // Full runs of the largest size, then one run of each smaller size the remainder needs.
      while (rows.length - k >= n) {
        params.length = 0;
        for (let r = k; r < k + n; r++) {
          const row = rows[r]!;
          if (row.length !== this.columns) throw new Error("a batched row has the wrong width");
          for (let c = 0; c < row.length; c++) params.push(row[c]);
        }
        call(this.prepared[i]!, params);
        k += n;
        if (i < this.prepared.length - 1) break;
      }
    }
  }
}

/** An attribute of a ClassAd: its expression, compiled closure and evaluation bookkeeping. */
import type { Expr } from "./ast.js";
import type { Compiled } from "./eval-state.js";
import { parseRange } from "./parser.js";
import type { Value } from "./value.js";

/**
 * One attribute: its expression, the compiled closure (lazily) and evaluation bookkeeping. An
 * entry read by the ad scanner may hold its expression as a checked text range instead, parsed
 * on first use, or only its constant when the expression is a literal.
 */
export class AttrEntry {
  compiled: Compiled | null = null;
  /** On the evaluation stack right now (a reference back to it is circular, §3.3). */
  busy = false;
  /** The value when the expression is a plain literal (no evaluation needed), else null. */
  readonly constant: Value | null;
  private tree: Expr | null;

  constructor(
    readonly name: string,
    expr: Expr | null,
    constant: Value | null = expr !== null && expr.kind === "literal" ? expr.value : null,
    /** Text holding the expression at [begin, end), when `expr` is null and it is no literal. */
    private readonly source: string | null = null,
    private readonly begin = 0,
    private readonly end = 0,
  ) {
    this.tree = expr;
    this.constant = constant;
  }

  get expr(): Expr {
    if (this.tree !== null) return this.tree;
    this.tree =
      this.source !== null
        ? parseRange(this.source, this.begin, this.end)
        : { kind: "literal", value: this.constant! };
    return this.tree;
  }
}

/** Small helpers shared by the ClassAd tests. */
import { ClassAd, ClassAdParseError, unparseValue } from "../../src/classad/index.js";

/** A fixed clock, so CurrentTime and time() are predictable. */
export const FIXED_CLOCK = { now: () => 1_700_000_000 };

/**
 * The value of `expr` (with optional MY and TARGET ad texts) as ClassAd text, or "PARSE-ERROR".
 */
export function evalText(expr: string, my?: string, target?: string): string {
  try {
    const myAd = my === undefined ? new ClassAd() : ClassAd.parse(my);
    const targetAd = target === undefined ? null : ClassAd.parse(target);
    return unparseValue(myAd.evaluateExpr(expr, targetAd, { ctx: FIXED_CLOCK }));
  } catch (err) {
    if (err instanceof ClassAdParseError) return "PARSE-ERROR";
    throw err;
  }
}

/** The message of the parse error `parse` throws (fails if it does not throw one). */
export function parseErrorOf(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    if (err instanceof ClassAdParseError) return err.message;
    throw err;
  }
  throw new Error("expected a parse error");
}

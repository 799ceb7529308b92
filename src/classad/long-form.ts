/**
 * The old ClassAd long form (condor_q -long): one `Name = expression` per line, `#` comment lines
 * and blank lines skipped (SEMANTICS §1.10). Values use old string syntax and, as in HTCondor,
 * anything after a complete expression on its line is ignored.
 */
import type { Expr } from "./ast.js";
import { ClassAdParseError, locate } from "./errors.js";
import { Parser, withParser } from "./parser.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseLongForm(text: string): [name: string, expr: Expr][] {
  const attrs: [string, Expr][] = [];
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#")) {
      const eq = line.indexOf("=");
      if (eq < 0) {
        const at = locate(text, lineStart + line.search(/\S/));
        throw new ClassAdParseError("expected 'Name = expression'", at.line, at.column);
      }
      const name = line.slice(0, eq).trim();
      if (!NAME.test(name)) {
        const at = locate(text, lineStart + line.search(/\S/));
        throw new ClassAdParseError(`invalid attribute name '${name}'`, at.line, at.column);
      }
      const expr = withParser(
        text,
        { oldStrings: true, begin: lineStart + eq + 1, end: lineEnd },
        (p: Parser) => p.parseExpression(),
      );
      attrs.push([name, expr]);
    }
    lineStart = lineEnd + 1;
  }
  return attrs;
}

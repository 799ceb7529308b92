/** A syntax error in ClassAd text, located by 1-based line and column. */
import { UpdraftError } from "../common/errors.js";
export class ClassAdParseError extends UpdraftError {
  readonly code = "classad-syntax";
  constructor(
    /** What went wrong, without the location. */
    readonly detail: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${detail}`);
    this.name = "ClassAdParseError";
  }
}

/** 1-based line and column of a character offset in `text`. */
export function locate(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

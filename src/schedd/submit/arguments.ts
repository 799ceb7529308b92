/**
 * `arguments` and `environment` in condor_submit's two syntaxes, turned into the V2 "raw" text
 * HTCondor stores in the job ad's `Arguments` and `Environment` attributes.
 *
 * Old syntax: words split on whitespace, `\"` for a literal double quote.
 * New syntax: the whole value in double quotes; `""` is a literal `"`; single quotes group words
 * and `''` inside them is a literal `'`.
 */

export type Split = { ok: true; words: string[] } | { ok: false; message: string };

/** Whether `value` uses the new (double-quoted) syntax. */
export function isNewSyntax(value: string): boolean {
  return value.startsWith('"');
}

/** Words of an old-syntax arguments value. */
export function splitOldArguments(value: string): Split {
  const words: string[] = [];
  const quoted = value.includes('"');
  for (const token of value.split(/[ \t]+/)) {
    if (token === "") continue;
    if (quoted && /(?<!\\)"/.test(token)) {
      return { ok: false, message: 'a double quote in old-syntax arguments must be written \\"' };
    }
    words.push(quoted ? token.replace(/\\"/g, '"') : token);
  }
  return { ok: true, words };
}

/** Words of a new-syntax value, given with its surrounding double quotes. */
export function splitNewSyntax(value: string): Split {
  if (value.length < 2 || !value.endsWith('"')) {
    return { ok: false, message: "a value starting with '\"' must end with '\"' (new syntax)" };
  }
  const body = value.slice(1, -1);
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (c === '"') {
      if (body[i + 1] !== '"') {
        return {
          ok: false,
          message: 'a literal double quote inside a new-syntax value is written ""',
        };
      }
      word += '"';
      inWord = true;
      i += 2;
    } else if (c === "'") {
      // A single-quoted section: '' inside it is one literal quote.
      inWord = true;
      i++;
      for (;;) {
        if (i >= body.length) return { ok: false, message: "unterminated single quote" };
        if (body[i] === "'") {
          if (body[i + 1] === "'") {
            word += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (body[i] === '"' && body[i + 1] === '"') {
          word += '"';
          i += 2;
          continue;
        }
        word += body[i];
        i++;
      }
    } else if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

/** One word in V2 raw form: single-quoted when it is empty or holds blanks or a single quote. */
function rawWord(word: string): string {
  if (word !== "" && !/[\s']/.test(word)) return word;
  return `'${word.replace(/'/g, "''")}'`;
}

/** Words joined in V2 raw form (the text inside HTCondor's `Arguments` string). */
export function joinV2Raw(words: readonly string[]): string {
  return words.map(rawWord).join(" ");
}

export type ParsedEnvironment =
  { ok: true; vars: Map<string, string> } | { ok: false; message: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `environment` in either syntax, as name to value in the order given (a later name wins). */
export function parseEnvironment(value: string): ParsedEnvironment {
  let entries: string[];
  if (isNewSyntax(value)) {
    const split = splitNewSyntax(value);
    if (!split.ok) return split;
    entries = split.words;
  } else {
    entries = value
      .split(";")
      .map((e) => e.trim())
      .filter((e) => e !== "");
  }
  const vars = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!ENV_NAME.test(name)) {
      return { ok: false, message: `environment entry '${entry}' is not NAME=value` };
    }
    vars.set(name, eq < 0 ? "" : entry.slice(eq + 1));
  }
  return { ok: true, vars };
}

/** Environment variables in V2 raw form (`A=1 'B=two words'`). */
export function environmentV2Raw(vars: ReadonlyMap<string, string>): string {
  return joinV2Raw([...vars].map(([k, v]) => `${k}=${v}`));
}

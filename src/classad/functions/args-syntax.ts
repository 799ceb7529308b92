/**
 * HTCondor's argument and environment syntaxes, as job ads store them (the "raw" forms, without
 * the outer double quotes a submit file puts around the new syntax):
 *
 * - V1 arguments (`Args`): words separated by whitespace, no quoting.
 * - V2 arguments (`Arguments`): words separated by whitespace; single quotes group a word that
 *   holds spaces, and `''` inside them is a literal quote (`one 'two words' 'it''s'`).
 * - V1 environment (`Env`): `NAME=value` entries separated by `;`, no quoting.
 * - V2 environment (`Environment`): `NAME=value` words in the V2 argument syntax
 *   (`A=1 'B=two words'`).
 *
 * Parsers return undefined for text the syntax cannot read.
 */

const WHITESPACE = /\s/;

/** V2 arguments to words; an unterminated single quote is unreadable. */
export function parseArgsV2(text: string): string[] | undefined {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      inWord = true;
      // A quoted run: up to the next lone quote; `''` inside it is one quote.
      for (i++; ; i++) {
        if (i >= text.length) return undefined;
        if (text[i] === "'") {
          if (text[i + 1] !== "'") break;
          i++;
        }
        word += text[i];
      }
    } else if (WHITESPACE.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A word in V2 syntax: quoted when empty or holding whitespace or quotes. */
function quoteV2(word: string): string {
  if (word !== "" && !/[\s']/.test(word)) return word;
  return `'${word.replaceAll("'", "''")}'`;
}

/** Words as V2 arguments, separated by single spaces. */
export function formatArgsV2(words: readonly string[]): string {
  return words.map(quoteV2).join(" ");
}

/** V1 arguments to words. */
export function parseArgsV1(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

/** Words as V1 arguments; V1 has no way to write an empty word or one holding whitespace. */
export function formatArgsV1(words: readonly string[]): string | undefined {
  if (words.some((w) => w === "" || /\s/.test(w))) return undefined;
  return words.join(" ");
}

/** Environment variables by name; setting a name again replaces its value. */
export type Environment = Map<string, string>;

/** `NAME=value` to its parts; a missing `=` or an empty name is unreadable. */
function entry(text: string): [string, string] | undefined {
  const eq = text.indexOf("=");
  if (eq <= 0) return undefined;
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function mergeEntries(env: Environment, entries: readonly string[]): boolean {
  for (const text of entries) {
    const parsed = entry(text);
    if (parsed === undefined) return false;
    env.set(parsed[0], parsed[1]);
  }
  return true;
}

/** Merge a V1 environment (`A=1;B=2`, empty entries ignored) into `env`; false if unreadable. */
export function mergeEnvV1(env: Environment, text: string): boolean {
  return mergeEntries(
    env,
    text.split(";").filter((e) => e.trim() !== ""),
  );
}

/** Merge a V2 environment (`A=1 'B=two words'`) into `env`; false if unreadable. */
export function mergeEnvV2(env: Environment, text: string): boolean {
  const words = parseArgsV2(text);
  return words !== undefined && mergeEntries(env, words);
}

/** An environment in V2 syntax, names in code-unit order as HTCondor's sorted table keeps them. */
export function formatEnvV2(env: Environment): string {
  const names = [...env.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return formatArgsV2(names.map((name) => `${name}=${env.get(name)!}`));
}

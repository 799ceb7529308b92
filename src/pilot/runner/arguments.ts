/**
 * HTCondor's "new" (V2) quoting for the job ad's `Arguments` and `Environment` attributes: words
 * separated by whitespace; single quotes group a word and `''` inside them is a literal quote.
 * Double quotes have no special meaning inside the attribute value (they only mark V2 syntax in a
 * submit file, which the schedd strips).
 */

export type SplitResult = { ok: true; words: string[] } | { ok: false; message: string };

export function splitV2(text: string): SplitResult {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === "'") {
        if (text[i + 1] === "'") {
          word += "'";
          i++;
        } else quoted = false;
      } else word += c;
    } else if (c === "'") {
      quoted = true;
      inWord = true;
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quoted) return { ok: false, message: "unterminated single quote" };
  if (inWord) words.push(word);
  return { ok: true, words };
}

export type EnvResult = { ok: true; env: Record<string, string> } | { ok: false; message: string };

/** `Environment = "A=1 'B=two words' C="`: each word is NAME=VALUE. */
export function parseEnvironmentV2(text: string): EnvResult {
  const split = splitV2(text);
  if (!split.ok) return split;
  const env: Record<string, string> = {};
  for (const w of split.words) {
    const eq = w.indexOf("=");
    if (eq <= 0) return { ok: false, message: `environment entry without NAME=: ${w}` };
    env[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return { ok: true, env };
}

/** The inverse of splitV2, for building ads in tests and tools. */
export function joinV2(words: string[]): string {
  return words
    .map((w) => (w === "" || /[\s']/.test(w) ? `'${w.replace(/'/g, "''")}'` : w))
    .join(" ");
}

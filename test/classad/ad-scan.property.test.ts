/**
 * The ad scanner (the fast path of ClassAd.parse) against the full parser: on generated ads, on
 * token soup and on damaged ads, whatever the scanner accepts must be exactly what the parser
 * builds (names, spellings, constants, trees), and whatever the parser rejects the scanner must
 * leave to it, so that parse errors are still reported at parse time with the parser's message.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { scanAd } from "../../src/classad/ad-scan.js";
import type { AttrEntry } from "../../src/classad/attr-entry.js";
import {
  ClassAd,
  ClassAdParseError,
  exprEquals,
  unparseExpr,
  unparseName,
} from "../../src/classad/index.js";
import type { Expr } from "../../src/classad/ast.js";
import { withParser } from "../../src/classad/parser.js";
import type { Value } from "../../src/classad/value.js";
import { expr, name } from "./expr-arbitrary.js";

/** The ad as the full parser reads it, or its error message. */
function fullParse(text: string): ClassAd | string {
  try {
    return ClassAd.fromNode(
      withParser(text, {}, (p) => {
        const node = p.parseAd();
        p.expectEnd();
        return node;
      }),
    );
  } catch (err) {
    if (err instanceof ClassAdParseError) return err.message;
    throw err;
  }
}

function assertSameEntries(got: Map<string, AttrEntry>, want: ClassAd, text: string): void {
  assert.deepEqual([...got.keys()], [...want.entries.keys()], text);
  for (const [key, entry] of got) {
    const other = want.entries.get(key)!;
    assert.equal(entry.name, other.name, text);
    if (other.constant === null) assert.equal(entry.constant, null, text);
    else {
      assert.notEqual(entry.constant, null, text);
      const literal = (value: Value): Expr => ({ kind: "literal", value });
      assert.ok(exprEquals(literal(entry.constant!), literal(other.constant)), text);
    }
    assert.ok(
      exprEquals(entry.expr, other.expr),
      `${text}: ${key} read as ${unparseExpr(entry.expr)}, not ${unparseExpr(other.expr)}`,
    );
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Counts of texts the scanner took and left, so a property cannot pass by always leaving. */
interface Tally {
  taken: number;
  left: number;
  /** ASCII texts the parser reads without error (the scanner leaves other text to it). */
  valid: number;
}

/**
 * The scanner agrees with the parser on `text`; so does ClassAd.parse, when the text is one it
 * reads in new syntax (else it reads the old long form).
 */
function agree(text: string, tally: Tally): void {
  const want = fullParse(text);
  const got = scanAd(text);
  if (got === null) tally.left++;
  else tally.taken++;
  const newSyntax = /^\s*\[/.test(text);
  if (typeof want === "string") {
    assert.equal(got, null, `the scanner took ${JSON.stringify(text)}, which is: ${want}`);
    if (newSyntax) assert.throws(() => ClassAd.parse(text), { message: want });
    return;
  }
  if (isAscii(text)) tally.valid++;
  if (got !== null) assertSameEntries(got, want, JSON.stringify(text));
  if (newSyntax) assertSameEntries(ClassAd.parse(text).entries, want, JSON.stringify(text));
}

const blank = fc.constantFrom("", " ", "  ", "\n", "\t", " /* c */ ", "// c\n", "/**/");
const separator = fc.constantFrom(";", "; ", ";;", " ;\n", ";/* c */", ";\n\n");

/** Values written in ways unparse never writes them. */
const spelledValue = fc.constantFrom(
  "-5",
  "- 5",
  "-007",
  "007",
  "0",
  "-0",
  "1.5e3",
  "1e-2",
  ".5",
  "-.5",
  "5.",
  "1e",
  "123456789012345",
  "1234567890123456",
  "99999999999999999999",
  '"a" "b"',
  '"a"\n"b"',
  '"a" /**/ "b"',
  '"\\101\\n"',
  '"\\0"',
  '"\\400"',
  '"x\\"y"',
  '"unterminated',
  "TRUE",
  "False",
  "UNDEFINED",
  "error",
  "is",
  "'quoted name'",
  "''",
  "a.'b c'",
  ". b",
  "x ? : y",
  "x ?: -1",
  "x ?: -y",
  "f (1; 2)",
  "{ }",
  "{ 1, }",
  "[ ]",
  "[ ;; a = 1 ;; ]",
  "[ a = 1 ] . a",
  "a[0][1]",
  "a isnt b",
  "a =?= b",
  "a =!= b",
  "!a",
  "~-+a",
  "a >>> b >> c << d",
  "x ? y ? 1 : 2 : 3",
  "x ? 1 : y ? 2 : 3",
  "(x ? 1 : 2) + 3",
  "é",
  '"é"',
  "1 /* unterminated",
);

const value = fc.oneof(
  { weight: 3, arbitrary: expr.map((e) => unparseExpr(e)) },
  { weight: 2, arbitrary: spelledValue },
);

/** Mostly plain attribute names, as real ads have; quoted ones are left to the parser. */
const attrName = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) },
  { weight: 1, arbitrary: name },
);

const adText = fc
  .tuple(
    blank,
    fc.array(fc.tuple(attrName, blank, blank, value, separator), { maxLength: 6 }),
    fc.boolean(),
    blank,
  )
  .map(([lead, attrs, trailing, tail]) => {
    const parts = attrs.map(
      ([n, b1, b2, v, sep], i) =>
        `${unparseName(n)}${b1}=${b2}${v}${i < attrs.length - 1 || trailing ? sep : ""}`,
    );
    return `${lead}[ ${parts.join("")} ]${tail}`;
  });

test("generated ads: the scanner builds what the parser builds, or leaves the ad to it", () => {
  const tally: Tally = { taken: 0, left: 0, valid: 0 };
  fc.assert(
    fc.property(adText, (text) => agree(text, tally)),
    { numRuns: 3000 },
  );
  assert.ok(
    tally.taken > tally.valid / 2,
    `the scanner took ${tally.taken} of ${tally.valid} valid ads`,
  );
});

const TOKENS = [
  "a",
  "TARGET",
  "f",
  "true",
  "is",
  "isnt",
  "1",
  "-1",
  "007",
  "1.5",
  ".5",
  "5.",
  "1e5",
  '"s"',
  '"\\0"',
  "'q'",
  "''",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ";",
  ":",
  "?",
  "?:",
  ".",
  "=",
  "==",
  "=?=",
  "=!=",
  "!=",
  "!",
  "~",
  "-",
  "+",
  "*",
  "/",
  "%",
  "&&",
  "||",
  "&",
  "|",
  "^",
  "<",
  "<=",
  "<<",
  ">",
  ">=",
  ">>",
  ">>>",
  "/*",
  "*/",
  "//",
  "\n",
  "@",
  "é",
];
const soup = fc
  .array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom("", " ")), {
    minLength: 1,
    maxLength: 12,
  })
  .map((ts) => ts.map(([t, sp]) => t + sp).join(""));

test("token soup as a value: the scanner takes only what the parser takes", () => {
  const tally: Tally = { taken: 0, left: 0, valid: 0 };
  fc.assert(
    fc.property(soup, fc.constantFrom(" ]", "; ]", ";"), (value, end) =>
      agree(`[ x = ${value}${end}`, tally),
    ),
    { numRuns: 20000 },
  );
  assert.ok(tally.taken > 100, `the scanner took only ${tally.taken} of the soups`);
});

test("damaged ads: a deleted, inserted or doubled character changes nothing the scanner decides wrongly", () => {
  const tally: Tally = { taken: 0, left: 0, valid: 0 };
  const damaged = fc
    .tuple(
      adText,
      fc.nat(),
      fc.constantFrom(...TOKENS),
      fc.constantFrom("delete", "insert", "double"),
    )
    .map(([text, at, token, how]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      if (how === "delete") return text.slice(0, i) + text.slice(i + 1);
      if (how === "insert") return text.slice(0, i) + token + text.slice(i);
      return text.slice(0, i) + text.slice(i, i + 3) + text.slice(i);
    });
  fc.assert(
    fc.property(damaged, (text) => agree(text, tally)),
    { numRuns: 5000 },
  );
  assert.ok(tally.taken > 0 && tally.left > 0, `taken ${tally.taken}, left ${tally.left}`);
});

test("an ad read again, whole or damaged, agrees with the parser (expression text remembered per attribute)", () => {
  const tally: Tally = { taken: 0, left: 0, valid: 0 };
  const variants = fc.tuple(
    adText,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TOKENS), fc.constantFrom("delete", "insert")), {
      minLength: 1,
      maxLength: 4,
    }),
  );
  fc.assert(
    fc.property(variants, ([text, damages]) => {
      // The first reading remembers each attribute's text; the next ones compare against it.
      agree(text, tally);
      agree(text, tally);
      for (const [at, token, how] of damages) {
        const i = text.length === 0 ? 0 : at % text.length;
        agree(
          how === "delete"
            ? text.slice(0, i) + text.slice(i + 1)
            : text.slice(0, i) + token + text.slice(i),
          tally,
        );
      }
    }),
    { numRuns: 3000 },
  );
  // The same expressions under other terminators and with text after them.
  for (const text of [
    "[ r = a + b; s = 1 ]",
    "[ r = a + b ]",
    "[ r = a + b c; s = 1 ]",
    "[ r = a + b; ]",
    "[ r = a + b ; s = 1 ]",
    "[ r = a + b ]]",
    "[ r = a + b",
    "[ r = a + b;",
    '[ r = "x" ; s = 1 ]',
    '[ r = "x" "y"; s = 1 ]',
    '[ r = "x" ; s = 1 ]',
    "[ r = 1.5; s = 1 ]",
    "[ r = 1.5e; s = 1 ]",
    "[ r = 1.5; s = 1 ]",
  ]) {
    agree(text, tally);
  }
  assert.ok(tally.taken > 0 && tally.left > 0, `taken ${tally.taken}, left ${tally.left}`);
});

test("long and deep expressions, repeated names and non-ASCII text agree with the parser", () => {
  const tally: Tally = { taken: 0, left: 0, valid: 0 };
  const long = Array.from({ length: 300 }, (_, i) => `a${i}`).join(" + ");
  for (const text of [
    `[ x = ${long} ]`,
    `[ x = ${"(".repeat(999)}1${")".repeat(999)} ]`,
    `[ x = ${"(".repeat(1001)}1${")".repeat(1001)} ]`,
    `[ x = ${"-".repeat(1001)}1 ]`,
    `[ x = ${"[a = ".repeat(600)}1${"]".repeat(600)} ]`,
    // Larger than the scanner's reused buffer.
    `[ ${Array.from({ length: 8000 }, (_, i) => `a${i} = ${i} + b`).join("; ")} ]`,
    "[ a = 1; A = 2 ]",
    "[ a = 1; b = x; A = y ]",
    '[ name = "café"; n = 1 ]',
    "[ é = 1 ]",
    "[ a = 1 ] junk",
    "[ a = 1 ] // comment",
    "[ a = 1 ] /* unterminated",
    " \n[ a = 1 ]",
    "[]",
    "[ ; ]",
    "[ a = 1",
    "[ a = ]",
    "[ a == 1 ]",
    "[ a = = 1 ]",
    "[ true = 1 ]",
    "[ 'quoted' = 1 ]",
  ]) {
    agree(text, tally);
  }
  assert.ok(tally.taken >= 5, `the scanner took only ${tally.taken}`);
});

test("an expression kept as text is parsed on first use, once", () => {
  const ad = ClassAd.parse(
    '[ Requirements = TARGET.Memory >= 2000 && Owner == "alice"; Owner = "alice" ]',
  );
  const entry = ad.entries.get("requirements")!;
  const tree = entry.expr;
  assert.equal(unparseExpr(tree), 'TARGET.Memory >= 2000 && Owner == "alice"');
  assert.equal(entry.expr, tree);
  assert.equal(ad.entries.get("owner")!.constant, "alice");
  assert.equal(ad.evaluate("Requirements", ClassAd.parse("[ Memory = 4000 ]")), true);
});

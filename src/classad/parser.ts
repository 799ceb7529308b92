/**
 * Recursive-descent parser for ClassAd expressions and ads (SEMANTICS §1.9, precedence §2.1).
 * Binary operators use precedence climbing, which keeps the recursion per nesting level shallow;
 * nesting deeper than MAX_DEPTH is a parse error, so hostile input cannot overflow the stack.
 */
import { type AdNode, BINARY_LEVEL, type BinaryOp, type Expr, type UnaryOp } from "./ast.js";
import { ClassAdParseError, locate } from "./errors.js";
import { Lexer, Tok, describeToken } from "./lexer.js";

/** Deepest nesting of parentheses, brackets, braces and operators accepted. */
export const MAX_DEPTH = 1000;

const BINARY_TOKENS: ReadonlyMap<Tok, BinaryOp> = new Map<Tok, BinaryOp>([
  [Tok.OrOr, "||"],
  [Tok.AndAnd, "&&"],
  [Tok.Pipe, "|"],
  [Tok.Caret, "^"],
  [Tok.Amp, "&"],
  [Tok.EqEq, "=="],
  [Tok.NotEq, "!="],
  [Tok.MetaEq, "=?="],
  [Tok.MetaNe, "=!="],
  [Tok.Lt, "<"],
  [Tok.Le, "<="],
  [Tok.Gt, ">"],
  [Tok.Ge, ">="],
  [Tok.Shl, "<<"],
  [Tok.Shr, ">>"],
  [Tok.Ushr, ">>>"],
  [Tok.Plus, "+"],
  [Tok.Minus, "-"],
  [Tok.Star, "*"],
  [Tok.Slash, "/"],
  [Tok.Percent, "%"],
]);

/** Operator and binding level by token, as arrays: the parser asks for every token it sees. */
const BINARY_BY_TOKEN: (BinaryOp | undefined)[] = [];
const LEVEL_BY_TOKEN: number[] = [];
for (const [tok, op] of BINARY_TOKENS) {
  BINARY_BY_TOKEN[tok] = op;
  LEVEL_BY_TOKEN[tok] = BINARY_LEVEL[op];
}

const UNARY_TOKENS: ReadonlyMap<Tok, UnaryOp> = new Map<Tok, UnaryOp>([
  [Tok.Minus, "-"],
  [Tok.Plus, "+"],
  [Tok.Bang, "!"],
  [Tok.Tilde, "~"],
]);

const UNARY_BY_TOKEN: (UnaryOp | undefined)[] = [];
for (const [tok, op] of UNARY_TOKENS) UNARY_BY_TOKEN[tok] = op;

const TOKEN_TEXT: Partial<Record<Tok, string>> = {
  [Tok.RBracket]: "']'",
  [Tok.RParen]: "')'",
  [Tok.RBrace]: "'}'",
  [Tok.Colon]: "':'",
  [Tok.Assign]: "'='",
};

export interface ParserOptions {
  /** Old-ClassAd string syntax (long-form attribute values, §1.5). */
  oldStrings?: boolean;
  /** Parse only `source.slice(begin, end)`; positions in errors stay relative to `source`. */
  begin?: number;
  end?: number;
}

export class Parser {
  readonly lx: Lexer;
  private depth = 0;

  constructor(
    readonly source: string,
    options: ParserOptions = {},
  ) {
    this.lx = new Lexer(source, options.oldStrings ?? false, options.begin ?? 0, options.end);
  }

  /** A parse error at the current token. */
  fail(detail: string, offset = this.lx.start): never {
    const { line, column } = locate(this.source, offset);
    throw new ClassAdParseError(detail, line, column);
  }

  private unexpected(wanted: string): never {
    const lx = this.lx;
    if (lx.cur() === Tok.Invalid) this.fail(lx.problem);
    this.fail(`expected ${wanted} but found ${describeToken(lx)}`);
  }

  private expect(tok: Tok): void {
    if (this.lx.cur() !== tok) this.unexpected(TOKEN_TEXT[tok] ?? "a token");
    this.lx.next();
  }

  /** The current token must be the end of input. */
  expectEnd(): void {
    if (this.lx.cur() !== Tok.End) this.unexpected("end of input");
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`expression nested more than ${MAX_DEPTH} deep`);
  }

  /** Expression ::= OrExpr [ '?' Expression ':' Expression ] */
  parseExpression(): Expr {
    this.enter();
    const cond = this.parseBinary(1);
    let result = cond;
    if (this.lx.cur() === Tok.Question) {
      this.lx.next();
      const then = this.parseExpression();
      this.expect(Tok.Colon);
      const otherwise = this.parseExpression();
      result = { kind: "ternary", cond, then, otherwise };
    }
    this.depth--;
    return result;
  }

  private parseBinary(minLevel: number): Expr {
    let left = this.parseUnary();
    for (;;) {
      const tok = this.lx.cur();
      const op = BINARY_BY_TOKEN[tok];
      if (op === undefined) return left;
      const level = LEVEL_BY_TOKEN[tok]!;
      if (level < minLevel) return left;
      this.lx.next();
      this.enter();
      const right = this.parseBinary(level + 1);
      this.depth--;
      left = { kind: "binary", op, left, right };
    }
  }

  private parseUnary(): Expr {
    const tok = this.lx.cur();
    const op = tok <= Tok.Bang ? UNARY_BY_TOKEN[tok] : undefined;
    if (op === undefined) return this.parsePostfix();
    this.lx.next();
    this.enter();
    const operand = this.parseUnary();
    this.depth--;
    return { kind: "unary", op, operand };
  }

  /** Postfix ::= Primary ( '.' Name | '[' Expression ']' )* [ '?:' Postfix ] (§2.1, §2.9). */
  private parsePostfix(): Expr {
    let e = this.parsePrimary();
    const lx = this.lx;
    for (;;) {
      if (lx.cur() === Tok.Dot) {
        lx.next();
        if (lx.cur() !== Tok.Name) this.unexpected("an attribute name after '.'");
        e = { kind: "select", base: e, name: lx.text };
        lx.next();
      } else if (lx.cur() === Tok.LBracket) {
        lx.next();
        const index = this.parseExpression();
        this.expect(Tok.RBracket);
        e = { kind: "subscript", base: e, index };
      } else if (lx.cur() === Tok.Elvis) {
        lx.next();
        this.enter();
        const right = this.parsePostfix();
        this.depth--;
        return { kind: "elvis", left: e, right };
      } else {
        return e;
      }
    }
  }

  private parsePrimary(): Expr {
    const lx = this.lx;
    switch (lx.cur()) {
      case Tok.Literal: {
        const value = lx.value;
        lx.next();
        return { kind: "literal", value };
      }
      case Tok.Name: {
        const name = lx.text;
        const quoted = lx.quoted;
        lx.next();
        if (lx.cur() === Tok.LParen && !quoted) {
          return { kind: "call", name, args: this.parseArguments() };
        }
        return { kind: "attr", name, absolute: false };
      }
      case Tok.Dot: {
        lx.next();
        if (lx.cur() !== Tok.Name) this.unexpected("an attribute name after '.'");
        const name = lx.text;
        lx.next();
        return { kind: "attr", name, absolute: true };
      }
      case Tok.LParen: {
        lx.next();
        const inner = this.parseExpression();
        this.expect(Tok.RParen);
        return { kind: "paren", inner };
      }
      case Tok.LBrace:
        return this.parseList();
      case Tok.LBracket:
        return this.parseAd();
      default:
        return this.unexpected("an expression");
    }
  }

  /** '(' [ Expression ( (',' | ';') Expression )* ] ')' — `;` is allowed in old semantics (§0). */
  private parseArguments(): Expr[] {
    const lx = this.lx;
    lx.next();
    const args: Expr[] = [];
    if (lx.cur() === Tok.RParen) {
      lx.next();
      return args;
    }
    for (;;) {
      args.push(this.parseExpression());
      if (lx.cur() === Tok.Comma || lx.cur() === Tok.Semicolon) {
        lx.next();
        continue;
      }
      if (lx.cur() === Tok.RParen) {
        lx.next();
        return args;
      }
      this.unexpected("',' or ')' in the argument list");
    }
  }

  private parseList(): Expr {
    const lx = this.lx;
    lx.next();
    this.enter();
    const items: Expr[] = [];
    if (lx.cur() === Tok.RBrace) {
      lx.next();
    } else {
      for (;;) {
        items.push(this.parseExpression());
        if (lx.cur() === Tok.Comma) {
          lx.next();
          continue;
        }
        if (lx.cur() === Tok.RBrace) {
          lx.next();
          break;
        }
        this.unexpected("',' or '}' in the list");
      }
    }
    this.depth--;
    return { kind: "list", items };
  }

  /** '[' ( Name '=' Expression ';'* )* ']' with optional, repeated `;` (§1.9). */
  parseAd(): AdNode {
    const lx = this.lx;
    if (lx.cur() !== Tok.LBracket) this.unexpected("'['");
    lx.next();
    this.enter();
    const attrs: (readonly [string, Expr])[] = [];
    for (;;) {
      while (lx.cur() === Tok.Semicolon) lx.next();
      if (lx.cur() === Tok.RBracket) {
        lx.next();
        break;
      }
      if (lx.cur() !== Tok.Name) this.unexpected("an attribute name or ']'");
      const name = lx.text;
      lx.next();
      this.expect(Tok.Assign);
      attrs.push([name, this.parseExpression()]);
      if (lx.cur() !== Tok.Semicolon && lx.cur() !== Tok.RBracket) {
        this.unexpected("';' or ']' after the attribute's expression");
      }
    }
    this.depth--;
    return { kind: "classad", attrs };
  }
}

/** Run `body` on a fresh parser, turning a stack overflow into a parse error. */
export function withParser<T>(source: string, options: ParserOptions, body: (p: Parser) => T): T {
  const parser = new Parser(source, options);
  try {
    return body(parser);
  } catch (err) {
    if (err instanceof RangeError) {
      parser.fail("expression nested too deeply", parser.lx.start);
    }
    throw err;
  }
}

/** Parse one complete expression (new syntax); anything after it is an error. */
export function parseExpression(text: string): Expr {
  return withParser(text, {}, (p) => {
    const e = p.parseExpression();
    p.expectEnd();
    return e;
  });
}

/** The expression at `source.slice(begin, end)`, which must be all of it (errors located in `source`). */
export function parseRange(source: string, begin: number, end: number): Expr {
  return withParser(source, { begin, end }, (p) => {
    const e = p.parseExpression();
    p.expectEnd();
    return e;
  });
}

/** Parse the expression at the start of `text` and report where it ended (rest ignored). */
export function parseExpressionPrefix(
  text: string,
  options: ParserOptions = {},
): { expr: Expr; end: number } {
  return withParser(text, options, (p) => {
    const expr = p.parseExpression();
    return { expr, end: p.lx.start };
  });
}

/** Result of a parse that does not throw. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ClassAdParseError };

export function tryParse<T>(parse: () => T): ParseResult<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    if (err instanceof ClassAdParseError) return { ok: false, error: err };
    throw err;
  }
}

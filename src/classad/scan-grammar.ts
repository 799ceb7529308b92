/**
 * The grammar of parser.ts run over token kinds alone: whether an attribute's expression is well
 * formed, without building its tree (the ad scanner keeps its text and parses it on first use).
 */
import { ByteTokens, K } from "./scan-tokens.js";

/** Where the grammar is between tokens. */
const enum S {
  /** A unary expression must follow. */
  Operand,
  /** After `?:`: a primary must follow (no unary operator). */
  Primary,
  /** After an operand. */
  After,
  /** After an unquoted name: `(` makes it a call. */
  AfterName,
  /** After a call's `(`: `)` or an argument. */
  Arguments,
  /** After `{`: `}` or an item. */
  Items,
  /** In a nested ad: `;`s, then a name or `]`. */
  AdName,
  /** After a nested ad's attribute name: `=`. */
  Assign,
}

/** What an open bracket or `?` on the stack waits for. */
const enum Ctx {
  Paren,
  Call,
  List,
  Subscript,
  Ad,
  /** Between `?` and its `:`. */
  Then,
  /** After a `:`: ends where the enclosing expression ends. */
  Else,
}

/**
 * Expressions of more tokens are left to the full parser. The bound keeps the parser's nesting
 * depth (at most two levels per token, plus the ad's own) below MAX_DEPTH, so an expression the
 * scanner accepts can never fail the depth check when parsed later.
 */
const MAX_TOKENS = 400;
const MAX_NESTING = 64;

/** Recognises one expression at a time from the tokens of `ByteTokens`. */
export class ExpressionRecognizer extends ByteTokens {
  private readonly stack = new Uint8Array(MAX_NESTING);

  /** The first token of the last expression recognised was a literal. */
  protected firstLiteral = false;

  /**
   * Read one expression from `pos` up to the `;` or `]` that ends an attribute's value (left in
   * `start`). Returns the number of tokens, or -1 when the expression is malformed or beyond
   * what the scanner takes on.
   */
  protected recognize(): number {
    const stack = this.stack;
    let depth = 0;
    let state = S.Operand;
    let tokens = 0;
    for (;;) {
      const tok = this.token(state === S.After || state === S.AfterName || state === S.Assign);
      if (tok === K.Bad || ++tokens > MAX_TOKENS) return -1;
      if (tokens === 1) this.firstLiteral = tok === K.Literal;
      switch (state) {
        case S.Arguments:
          if (tok === K.RParen) {
            depth--;
            state = S.After;
            continue;
          }
          break;
        case S.Items:
          if (tok === K.RBrace) {
            depth--;
            state = S.After;
            continue;
          }
          break;
        case S.AdName:
          if (tok === K.Semicolon) continue;
          if (tok === K.RBracket) {
            depth--;
            state = S.After;
          } else if (tok === K.Name || tok === K.QuotedName) {
            state = S.Assign;
          } else {
            return -1;
          }
          continue;
        case S.Assign:
          if (tok !== K.Assign) return -1;
          state = S.Operand;
          continue;
        case S.AfterName:
          if (tok === K.LParen) {
            if (depth === MAX_NESTING) return -1;
            stack[depth++] = Ctx.Call;
            state = S.Arguments;
            continue;
          }
          state = S.After;
          break;
        default:
          break;
      }
      if (state !== S.After) {
        // An operand: Operand, Primary, Arguments or Items.
        switch (tok) {
          case K.Literal:
          case K.QuotedName:
            state = S.After;
            continue;
          case K.Name:
            state = S.AfterName;
            continue;
          case K.Sign:
          case K.Unary:
            if (state === S.Primary) return -1;
            state = S.Operand;
            continue;
          case K.Dot:
            if (!this.selectedName()) return -1;
            state = S.After;
            continue;
          case K.LParen:
          case K.LBrace:
          case K.LBracket:
            if (depth === MAX_NESTING) return -1;
            if (tok === K.LParen) {
              stack[depth++] = Ctx.Paren;
              state = S.Operand;
            } else if (tok === K.LBrace) {
              stack[depth++] = Ctx.List;
              state = S.Items;
            } else {
              stack[depth++] = Ctx.Ad;
              state = S.AdName;
            }
            continue;
          default:
            return -1;
        }
      }
      // After an operand.
      switch (tok) {
        case K.Binary:
        case K.Sign:
          state = S.Operand;
          continue;
        case K.Dot:
          if (!this.selectedName()) return -1;
          continue;
        case K.Elvis:
          state = S.Primary;
          continue;
        case K.LBracket:
        case K.Question:
          if (depth === MAX_NESTING) return -1;
          stack[depth++] = tok === K.LBracket ? Ctx.Subscript : Ctx.Then;
          state = S.Operand;
          continue;
        default:
          break;
      }
      // Anything else ends the expression: every `:` branch open ends with it.
      while (depth > 0 && stack[depth - 1] === Ctx.Else) depth--;
      const open = depth > 0 ? stack[depth - 1]! : -1;
      switch (tok) {
        case K.Colon:
          if (open !== Ctx.Then) return -1;
          stack[depth - 1] = Ctx.Else;
          state = S.Operand;
          continue;
        case K.RParen:
          if (open !== Ctx.Paren && open !== Ctx.Call) return -1;
          depth--;
          continue;
        case K.Comma:
          if (open !== Ctx.Call && open !== Ctx.List) return -1;
          state = S.Operand;
          continue;
        case K.RBrace:
          if (open !== Ctx.List) return -1;
          depth--;
          continue;
        case K.Semicolon:
          if (open === -1) return tokens - 1;
          if (open === Ctx.Call) state = S.Operand;
          else if (open === Ctx.Ad) state = S.AdName;
          else return -1;
          continue;
        case K.RBracket:
          if (open === -1) return tokens - 1;
          if (open !== Ctx.Subscript && open !== Ctx.Ad) return -1;
          depth--;
          continue;
        default:
          return -1;
      }
    }
  }

  /** After a `.`: the name it selects (quoted or not, no keyword). */
  private selectedName(): boolean {
    const tok = this.token(false);
    return tok === K.Name || tok === K.QuotedName;
  }
}

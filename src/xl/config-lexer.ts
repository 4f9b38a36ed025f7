/**
 * Lexer for xl domain config files, following the token rules of xl's libxlu
 * (tools/libs/util/libxlu_cfg_l.l):
 *
 * - names are `[a-z][_0-9a-z]*` (lowercase only: `Name = ...` is a lexical error in xl too);
 * - numbers are `[0-9][0-9a-fx]*` and stay text: xl converts them only when a setting is read,
 *   with strtol base 0, so `012` is octal there (see domain-config.ts);
 * - strings are single- or double-quoted, end on the same line, and accept the escapes
 *   \" \' \\ \a \b \f \n \r \t \v;
 * - punctuation `=`, `+=`, `,`, `[`, `]`, `;`; blanks are space and tab;
 * - `#` starts a comment that runs to the end of the line and counts as a newline.
 *
 * Deliberate differences, all in the direction of rejecting less or rejecting more clearly:
 * - A comment on the last line without a final newline is accepted. (libxlu's comment rule needs
 *   the newline, so xl reports a lexical error there.)
 * - "\r\n" line ends are accepted. (xl rejects the "\r".)
 * - Numeric escapes (\xHH, \NNN) are rejected with a message explaining why. libxlu never emits
 *   the escaped character: it rejects every \x escape and silently drops octal ones. An sshm id
 *   that silently lost a character would be a worse outcome than an error.
 */

import type { SourceLoc } from "./source.js";
import { XL_CODES, xlError } from "./source.js";

export type TokenKind =
  | "ident"
  | "number"
  | "string"
  | "="
  | "+="
  | ","
  | "["
  | "]"
  | ";"
  | "newline"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Raw source text of the token ("" for eof, "\n" for newline). */
  readonly raw: string;
  /** Decoded value: the unquoted, unescaped string for strings; the raw text otherwise. */
  readonly value: string;
  readonly loc: SourceLoc;
  /**
   * For strings and numbers: the source location of each character of `value`, plus one
   * trailing entry for the position just after it. Lets the SSHM_SPEC checker point at the
   * exact key inside a quoted string.
   */
  readonly charLocs: readonly SourceLoc[];
}

const isLower = (c: string): boolean => c >= "a" && c <= "z";
const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isIdentTail = (c: string): boolean => isLower(c) || isDigit(c) || c === "_";
const isNumberTail = (c: string): boolean => isDigit(c) || (c >= "a" && c <= "f") || c === "x";

/** Characters libxlu flags as "looks like Python" when they appear outside strings. */
const PYTHONISH = new Set(["+", "-", ".", "(", ")", ":"]);

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  "\\": "\\",
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** A character for a message: control characters as \xHH so the message stays one line. */
function showChar(c: string): string {
  return c < " " || c === "\x7f" ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c;
}

export class XlLexer {
  private pos = 0;
  private line = 1;
  private col = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  private here(): SourceLoc {
    return { file: this.file, line: this.line, column: this.col };
  }

  private peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }

  /** Advance over one character that is not a newline. */
  private bump(): void {
    this.pos++;
    this.col++;
  }

  /** The run of non-blank characters at a position, the way libxlu quotes it after "near". */
  private nearText(from: number): string {
    if (this.text.charAt(from) === "\r") return "\\r";
    let end = from;
    while (end < this.text.length && !" \t\r\n".includes(this.text.charAt(end))) end++;
    const s = this.text.slice(from, end);
    return s.length > 40 ? `${s.slice(0, 40)}...` : s;
  }

  private lexError(loc: SourceLoc, from: number, detail: string): never {
    throw xlError(
      XL_CODES.syntax,
      `config parsing error near \`${this.nearText(from)}': lexical error: ${detail}`,
      loc,
    );
  }

  next(): Token {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t") {
        this.bump();
        continue;
      }
      if (c === "\r" && this.peek(1) === "\n") {
        this.bump();
        continue;
      }
      if (c === "#") {
        // Comment: skip to the newline, which is then returned as the statement end.
        while (this.pos < this.text.length && this.peek() !== "\n") this.bump();
        continue;
      }
      break;
    }
    const start = this.pos;
    const loc = this.here();
    if (start >= this.text.length) return this.simple("eof", "", loc);
    const c = this.peek();
    if (c === "\n") {
      this.pos++;
      this.line++;
      this.col = 1;
      return this.simple("newline", "\n", loc);
    }
    if (isLower(c)) return this.run("ident", isIdentTail, loc);
    if (isDigit(c)) return this.run("number", isNumberTail, loc);
    if (c === "'" || c === '"') return this.string(c, loc);
    if (c === "+" && this.peek(1) === "=") {
      this.bump();
      this.bump();
      return this.simple("+=", "+=", loc);
    }
    if (c === "=" || c === "," || c === "[" || c === "]" || c === ";") {
      this.bump();
      return this.simple(c, c, loc);
    }
    if (c === "\r") this.lexError(loc, start, "carriage return not followed by a newline");
    const shown = showChar(c);
    let hint = "";
    if (PYTHONISH.has(c)) {
      hint = " (xl config files are not Python: only key = value settings are allowed)";
    } else if (c >= "A" && c <= "Z") {
      hint = " (setting names are lowercase: [a-z][_0-9a-z]*)";
    }
    return this.lexError(loc, start, `unexpected character '${shown}'${hint}`);
  }

  private simple(kind: TokenKind, raw: string, loc: SourceLoc): Token {
    return { kind, raw, value: raw, loc, charLocs: [] };
  }

  private run(kind: "ident" | "number", tail: (c: string) => boolean, loc: SourceLoc): Token {
    const start = this.pos;
    const charLocs: SourceLoc[] = [];
    do {
      charLocs.push(this.here());
      this.bump();
    } while (this.pos < this.text.length && tail(this.peek()));
    charLocs.push(this.here());
    const raw = this.text.slice(start, this.pos);
    return { kind, raw, value: raw, loc, charLocs };
  }

  private string(quote: string, loc: SourceLoc): Token {
    const start = this.pos;
    this.bump();
    let value = "";
    const charLocs: SourceLoc[] = [];
    for (;;) {
      // Only a newline ends a string early: libxlu's [^"\\\n] lets a stray carriage return in.
      if (this.pos >= this.text.length || this.peek() === "\n") {
        // libxlu's string rule cannot match, so it reports a lexical error at the quote.
        this.lexError(
          loc,
          start,
          `unterminated ${quote === '"' ? "double" : "single"}-quoted string (a string must end on the line it starts)`,
        );
      }
      const c = this.peek();
      if (c === quote) {
        // The trailing entry is the closing quote: "just after the value".
        charLocs.push(this.here());
        this.bump();
        break;
      }
      const cLoc = this.here();
      if (c !== "\\") {
        value += c;
        charLocs.push(cLoc);
        this.bump();
        continue;
      }
      const e = this.peek(1);
      if (e === "" || e === "\n") {
        // "\\." in libxlu does not match a newline either: the string is unterminated.
        this.bump();
        continue;
      }
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        value += simple;
        charLocs.push(cLoc);
        this.bump();
        this.bump();
        continue;
      }
      if (e === "x" || (e >= "0" && e <= "7")) {
        throw xlError(
          XL_CODES.syntax,
          `config parsing error near \`${this.nearText(start)}': numeric character escape \\${e}... in quoted string is not supported (xl rejects \\x escapes and silently drops octal ones)`,
          cLoc,
        );
      }
      throw xlError(
        XL_CODES.syntax,
        `config parsing error near \`${this.nearText(start)}': invalid character after backslash in quoted string: '${showChar(e)}'`,
        cLoc,
      );
    }
    return { kind: "string", raw: this.text.slice(start, this.pos), value, loc, charLocs };
  }
}

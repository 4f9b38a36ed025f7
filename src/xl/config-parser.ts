/**
 * Parser for xl domain config files, following the grammar of xl's libxlu
 * (tools/libs/util/libxlu_cfg_y.y):
 *
 *   file       := { NEWLINE | ';' | assignment (NEWLINE | ';' | end of file) }
 *   assignment := NAME ('=' | '+=') value
 *   value      := atom | '[' nl* [ value nl* { ',' nl* value nl* } [ ',' nl* ] ] ']'
 *   atom       := STRING | NUMBER
 *
 * so lists may span lines, may end with a comma, and may nest; a statement must end at a newline
 * or ';' (the last one may also end at the end of the file).
 *
 * Semantics kept from libxlu:
 * - A later `name = value` replaces an earlier one (libxlu looks settings up newest first).
 * - `name += value` appends to the current value of `name`: string to string (concatenation) or
 *   list to list; mixing the two is an error. With no earlier value it is a plain assignment, but
 *   it is remembered as `+=`, which makes numeric reads of it fail as in xl.
 * - Numbers stay text here. They become numbers only when a setting is read (domain-config.ts),
 *   because xl reads them with strtol and a quoted "256" is as good as 256 there.
 *
 * libxlu recovers from a syntax error at the next newline and keeps going to report more; sshm
 * stops at the first error, which it reports with file, line and column.
 */

import type { Token, TokenKind } from "./config-lexer.js";
import { XlLexer } from "./config-lexer.js";
import type { SourceLoc } from "./source.js";
import { XL_CODES, xlError } from "./source.js";

/** A single value: a quoted string or a bare number. Both are text, as in libxlu. */
export interface XlAtom {
  readonly kind: "atom";
  /** Which token produced it ("number" for bare numbers). After `+=` concatenation: the first one. */
  readonly token: "string" | "number";
  readonly text: string;
  /** Location of the opening quote (or of the first digit). */
  readonly loc: SourceLoc;
  /** Source location of each character of `text`, plus one entry for the position after it. */
  readonly charLocs: readonly SourceLoc[];
}

export interface XlList {
  readonly kind: "list";
  readonly items: readonly XlValue[];
  /** Location of the '['. */
  readonly loc: SourceLoc;
}

export type XlValue = XlAtom | XlList;

export interface XlSetting {
  readonly name: string;
  /** The operator of the statement that produced this value. */
  readonly op: "=" | "+=";
  readonly value: XlValue;
  /** Location of the setting name. */
  readonly loc: SourceLoc;
}

export interface XlConfig {
  readonly file: string;
  /** Every statement in file order, before `+=` merging. */
  readonly statements: readonly XlSetting[];
  /** The effective value of each setting (last assignment wins, `+=` merged), in first-seen order. */
  readonly settings: ReadonlyMap<string, XlSetting>;
}

const TOKEN_NAMES: Readonly<Record<TokenKind, string>> = {
  ident: "name",
  number: "number",
  string: "string",
  "=": "'='",
  "+=": "'+='",
  ",": "','",
  "[": "'['",
  "]": "']'",
  ";": "';'",
  newline: "newline",
  eof: "end of file",
};

const MAX_LIST_DEPTH = 256;

function near(t: Token): string {
  if (t.kind === "eof") return "near end of file";
  if (t.kind === "newline") return "near <newline>";
  const raw = t.raw.length > 40 ? `${t.raw.slice(0, 40)}...` : t.raw;
  return `near \`${raw}'`;
}

class Parser {
  private readonly lexer: XlLexer;
  private tok: Token;

  constructor(text: string, file: string) {
    this.lexer = new XlLexer(text, file);
    this.tok = this.lexer.next();
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  private unexpected(expected: readonly TokenKind[]): never {
    const t = this.tok;
    const exp = expected.map((k) => TOKEN_NAMES[k]);
    const expText = exp.length <= 1 ? (exp[0] ?? "") : `${exp.slice(0, -1).join(", ")} or ${exp.at(-1)}`;
    throw xlError(
      XL_CODES.syntax,
      `config parsing error ${near(t)}: syntax error, unexpected ${TOKEN_NAMES[t.kind]}, expecting ${expText}`,
      t.loc,
    );
  }

  /** Current token kind; a method so TypeScript does not narrow it across advance(). */
  private kind(): TokenKind {
    return this.tok.kind;
  }

  private skipNewlines(): void {
    while (this.tok.kind === "newline") this.advance();
  }

  parseFile(): XlSetting[] {
    const out: XlSetting[] = [];
    for (;;) {
      const k = this.tok.kind;
      if (k === "eof") return out;
      if (k === "newline" || k === ";") {
        this.advance();
        continue;
      }
      if (k !== "ident") this.unexpected(["ident", "newline", ";", "eof"]);
      out.push(this.assignment());
      const end = this.tok.kind;
      if (end === "newline" || end === ";") this.advance();
      else if (end !== "eof") this.unexpected(["newline", ";"]);
    }
  }

  private assignment(): XlSetting {
    const name = this.advance();
    if (this.tok.kind !== "=" && this.tok.kind !== "+=") this.unexpected(["=", "+="]);
    const op = this.advance().kind === "=" ? "=" : "+=";
    return { name: name.value, op, value: this.value(), loc: name.loc };
  }

  private value(depth = 0): XlValue {
    const t = this.tok;
    if (t.kind === "string" || t.kind === "number") {
      this.advance();
      return { kind: "atom", token: t.kind, text: t.value, loc: t.loc, charLocs: t.charLocs };
    }
    if (t.kind !== "[") this.unexpected(["string", "number", "["]);
    if (depth >= MAX_LIST_DEPTH) {
      // libxlu's bison stack would give "memory exhausted" somewhere deeper; we stop early so
      // recursion can never exhaust the JavaScript stack.
      throw xlError(
        XL_CODES.syntax,
        `config parsing error ${near(t)}: lists nested more than ${MAX_LIST_DEPTH} deep`,
        t.loc,
      );
    }
    this.advance();
    this.skipNewlines();
    const items: XlValue[] = [];
    if (this.kind() === "]") {
      this.advance();
      return { kind: "list", items, loc: t.loc };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipNewlines();
      if (this.kind() === "]") break;
      if (this.kind() !== ",") this.unexpected([",", "]"]);
      this.advance();
      this.skipNewlines();
      // A trailing comma before ']' is allowed.
      if (this.kind() === "]") break;
      if (this.kind() !== "string" && this.kind() !== "number" && this.kind() !== "[") {
        this.unexpected(["string", "number", "[", "]"]);
      }
    }
    this.advance();
    return { kind: "list", items, loc: t.loc };
  }
}

/** libxlu's `+=`: concatenate strings or lists, refuse to mix them. */
function concat(prev: XlValue, add: XlValue, stmt: XlSetting): XlValue {
  if (prev.kind === "atom" && add.kind === "atom") {
    return {
      kind: "atom",
      token: prev.token,
      text: prev.text + add.text,
      loc: prev.loc,
      // Drop prev's trailing "after the end" entry: the joined text continues with add's chars.
      charLocs: [...prev.charLocs.slice(0, prev.text.length), ...add.charLocs],
    };
  }
  if (prev.kind === "list" && add.kind === "list") {
    return { kind: "list", items: [...prev.items, ...add.items], loc: prev.loc };
  }
  throw xlError(
    XL_CODES.syntax,
    `config parsing error near \`${stmt.name}': can't add [list] to "string" or vice versa (setting \`${stmt.name}')`,
    add.loc,
  );
}

/**
 * Parse the text of an xl domain config file. `file` is used only in messages and locations.
 * Throws SshmError (code EXL_SYNTAX) at the first lexical or grammatical error.
 */
export function parseXlConfig(text: string, file: string): XlConfig {
  const statements = new Parser(text, file).parseFile();
  const settings = new Map<string, XlSetting>();
  for (const s of statements) {
    const prev = settings.get(s.name);
    if (s.op === "+=" && prev) {
      settings.set(s.name, { ...s, value: concat(prev.value, s.value, s) });
    } else {
      settings.set(s.name, s);
    }
  }
  return { file, statements, settings };
}

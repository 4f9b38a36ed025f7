/**
 * Tokens of the dtc source language (dtc's dtc-lexer.l, re-derived). dtc's lexer is
 * context-dependent: after `{` or `;` the text "0x10" is a node or property name, inside `<...>`
 * it is a number, inside `[...]` it is hex byte pairs. Here the parser says which it expects by
 * passing a mode to `peek`/`next`. `/include/` is handled at this level, as in dtc, so an included
 * file can hold any run of tokens.
 */

import { readFileSync } from "node:fs";
import * as path from "node:path";
import { SshmError } from "../common/errors.js";
import type { SourceLoc } from "./tree.js";

export type TokenKind =
  | "directive" // /dts-v1/, /memreserve/, /bits/, /delete-node/, ...
  | "label" // lbl:  (text is the label without the colon)
  | "ref" // &lbl  (text is the label)
  | "pathref" // &{/path}  (text is the path)
  | "string" // "..."  (data holds the bytes, without the terminating NUL)
  | "char" // 'a'  (value holds the character code)
  | "number" // 0x10, 017, 12  (value)
  | "name" // property or node name (in "default" mode: a stray word, always a syntax error)
  | "byte" // two hex digits, only in "bytes" mode (value)
  | "punct" // { } ; = < > [ ] , ( ) and the C operators
  | "eof";

export interface Token {
  kind: TokenKind;
  /** For labels, refs, names and directives: the name; for punct: the operator; else the source text. */
  text: string;
  loc: SourceLoc;
  value: bigint;
  data: Uint8Array;
}

/** What the parser expects next; see the file comment. */
export type LexMode = "default" | "name" | "bytes";

export type ReadFile = (file: string) => string;

const DIRECTIVES = new Set([
  "/dts-v1/",
  "/plugin/",
  "/memreserve/",
  "/bits/",
  "/delete-node/",
  "/delete-property/",
  "/omit-if-no-ref/",
  "/include/",
  "/incbin/",
]);

const LABEL_START = /[A-Za-z_]/;
const LABEL_CHAR = /[A-Za-z0-9_]/;
/** dtc's PROPNODECHAR: what node and property names are made of. */
const PROPNODE_CHAR = /[A-Za-z0-9,._+*#?@-]/;
const PATH_CHAR = /[A-Za-z0-9,._+*#?@/-]/;
const TWO_CHAR_OPS = new Set(["<<", ">>", "<=", ">=", "==", "!=", "&&", "||"]);
const ONE_CHAR_OPS = new Set([..."{};=<>[],()+-*/%&|^~!?:"]);
/**
 * A C preprocessor directive at the start of a line. A property may be called "#if" too, so a
 * directive word followed by "=" or ";" is left to the parser.
 */
const CPP_DIRECTIVE =
  /^#[ \t]*(include|define|undef|if|ifdef|ifndef|elif|else|endif|error|warning|pragma)(?:$|(?=[<"])|[ \t]+(?![=;]))/;
/** A cpp line marker (`# 12 "file.dts" 1`) or #line directive: dtc honours these for positions. */
const LINE_MARKER = /^#[ \t]*(?:line[ \t]+)?(\d+)[ \t]+"((?:[^"\\\n]|\\.)*)"[^\n]*/;

const MAX_INCLUDE_DEPTH = 64;
const U64_MAX = (1n << 64n) - 1n;

export function dtsError(code: string, loc: SourceLoc, message: string): SshmError {
  return new SshmError(code, message, { file: loc.file, line: loc.line, column: loc.column });
}

/** Decode one dtc escape sequence starting after the backslash (dtc's get_escape_char rules). */
function escapeAt(s: string, i: number): { byte: number; next: number } {
  const c = s[i] ?? "";
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 };
  const v = simple[c];
  if (v !== undefined) return { byte: v, next: i + 1 };
  if (/[0-7]/.test(c)) {
    let j = i;
    let n = 0;
    while (j < i + 3 && /[0-7]/.test(s[j] ?? "")) n = n * 8 + Number(s[j++]);
    return { byte: n & 0xff, next: j };
  }
  if (c === "x") {
    let j = i + 1;
    let n = 0;
    while (j < i + 3 && /[0-9A-Fa-f]/.test(s[j] ?? "")) n = n * 16 + Number.parseInt(s[j++] ?? "0", 16);
    return { byte: n, next: j };
  }
  // Any other escaped character stands for itself (\\, \", \', and unknown ones like \q).
  const code = c.codePointAt(0) ?? 0;
  return { byte: code, next: i + (code > 0xffff ? 2 : 1) };
}

const enc = new TextEncoder();

/** Bytes of a string or char literal body, escapes decoded; text outside escapes is UTF-8. */
export function decodeEscapes(body: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    const bs = body.indexOf("\\", i);
    const plainEnd = bs < 0 ? body.length : bs;
    if (plainEnd > i) out.push(...enc.encode(body.slice(i, plainEnd)));
    if (bs < 0) break;
    const e = escapeAt(body, bs + 1);
    if (e.byte > 0xff) out.push(...enc.encode(String.fromCodePoint(e.byte)));
    else out.push(e.byte);
    i = e.next;
  }
  return Uint8Array.from(out);
}

interface ScanState {
  pos: number;
  line: number;
  col: number;
  file: string;
}

/** Scans one file. Positions are 1-based lines and columns (UTF-16 units). */
class Scanner {
  private st: ScanState;
  constructor(
    readonly text: string,
    file: string,
  ) {
    // A UTF-8 byte-order mark written by some editors is not part of the source.
    this.st = { pos: text.startsWith("\uFEFF") ? 1 : 0, line: 1, col: 1, file };
  }
  save(): ScanState {
    return { ...this.st };
  }
  restore(s: ScanState): void {
    this.st = { ...s };
  }
  get file(): string {
    return this.st.file;
  }
  private loc(): SourceLoc {
    return { file: this.st.file, line: this.st.line, column: this.st.col };
  }
  private ch(off = 0): string {
    return this.text[this.st.pos + off] ?? "";
  }
  private advance(n: number): void {
    for (let k = 0; k < n && this.st.pos < this.text.length; k++) {
      if (this.text[this.st.pos] === "\n") {
        this.st.line++;
        this.st.col = 1;
      } else this.st.col++;
      this.st.pos++;
    }
  }
  private atLineStart(): boolean {
    for (let i = this.st.pos - 1; i >= 0; i--) {
      const c = this.text[i];
      if (c === "\n") return true;
      if (c !== " " && c !== "\t") return false;
    }
    return true;
  }

  private skipTrivia(): void {
    for (;;) {
      const c = this.ch();
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
        this.advance(1);
      } else if (c === "/" && this.ch(1) === "/") {
        while (this.st.pos < this.text.length && this.ch() !== "\n") this.advance(1);
      } else if (c === "/" && this.ch(1) === "*") {
        const start = this.loc();
        const end = this.text.indexOf("*/", this.st.pos + 2);
        if (end < 0) throw dtsError("EDTS_UNTERMINATED", start, "unterminated comment (no closing */)");
        this.advance(end + 2 - this.st.pos);
      } else if (c === "#" && this.atLineStart()) {
        const eol = this.text.indexOf("\n", this.st.pos);
        const rest = this.text.slice(this.st.pos, eol < 0 ? this.text.length : eol);
        const cpp = CPP_DIRECTIVE.exec(rest);
        if (cpp) {
          throw dtsError(
            "EDTS_CPP",
            this.loc(),
            `#${cpp[1]} is a C preprocessor directive: run the file through ` +
              `"cpp -nostdinc -undef -x assembler-with-cpp" first (dtc does not preprocess; ` +
              `use /include/ for a plain include)`,
          );
        }
        const mark = LINE_MARKER.exec(rest);
        if (!mark) return; // a property such as #address-cells
        this.advance(mark[0].length);
        // The marker names the position of the *next* line.
        this.st.file = new TextDecoder().decode(decodeEscapes(mark[2] ?? ""));
        this.st.line = Number(mark[1]) - 1;
      } else return;
    }
  }

  private tok(
    kind: TokenKind,
    text: string,
    loc: SourceLoc,
    value = 0n,
    data: Uint8Array = new Uint8Array(0),
  ): Token {
    return { kind, text, loc, value, data };
  }

  /** The longest run of characters matching `re` from the current position. */
  private run(re: RegExp, from = this.st.pos): string {
    let j = from;
    while (j < this.text.length && re.test(this.text[j] ?? "")) j++;
    return this.text.slice(from, j);
  }

  lex(mode: LexMode): Token {
    this.skipTrivia();
    const loc = this.loc();
    const c = this.ch();
    if (c === "") return this.tok("eof", "end of file", loc);

    // Labels are recognised in every mode, as in dtc (`<*>{LABEL}:`), and win over a name
    // because flex takes the longest match.
    if (LABEL_START.test(c)) {
      const id = this.run(LABEL_CHAR);
      if (this.ch(id.length) === ":") {
        this.advance(id.length + 1);
        return this.tok("label", id, loc);
      }
    }

    if (mode === "bytes") {
      if (/[0-9A-Fa-f]/.test(c)) {
        const pair = this.text.slice(this.st.pos, this.st.pos + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(pair)) {
          throw dtsError("EDTS_BAD_BYTES", loc, "byte strings are made of pairs of hex digits");
        }
        this.advance(2);
        return this.tok("byte", pair, loc, BigInt(Number.parseInt(pair, 16)));
      }
      if (c === "]") {
        this.advance(1);
        return this.tok("punct", "]", loc);
      }
      throw dtsError("EDTS_BAD_BYTES", loc, `unexpected ${JSON.stringify(c)} in a byte string [...]`);
    }

    if (mode === "name" && (PROPNODE_CHAR.test(c) || (c === "\\" && PROPNODE_CHAR.test(this.ch(1))))) {
      // A leading backslash lets a name look like a keyword; it is not part of the name.
      const skip = c === "\\" ? 1 : 0;
      const name = this.run(PROPNODE_CHAR, this.st.pos + skip);
      this.advance(skip + name.length);
      return this.tok("name", name, loc);
    }

    if (c === '"') return this.lexString(loc);
    if (c === "'") return this.lexChar(loc);

    if (c === "/") {
      const m = /^\/[A-Za-z][A-Za-z0-9-]*\//.exec(this.text.slice(this.st.pos, this.st.pos + 24));
      if (m) {
        if (!DIRECTIVES.has(m[0])) throw dtsError("EDTS_SYNTAX", loc, `unknown directive ${m[0]}`);
        this.advance(m[0].length);
        return this.tok("directive", m[0], loc);
      }
    }

    if (c === "&") {
      if (this.ch(1) === "{") {
        const p = this.run(PATH_CHAR, this.st.pos + 2);
        if (this.ch(2 + p.length) !== "}") {
          throw dtsError("EDTS_SYNTAX", loc, "path reference &{...} is not closed by }");
        }
        this.advance(p.length + 3);
        return this.tok("pathref", p, loc);
      }
      if (LABEL_START.test(this.ch(1))) {
        const id = this.run(LABEL_CHAR, this.st.pos + 1);
        this.advance(id.length + 1);
        return this.tok("ref", id, loc);
      }
    }

    if (/[0-9]/.test(c)) return this.lexNumber(loc);

    const two = c + this.ch(1);
    if (TWO_CHAR_OPS.has(two)) {
      this.advance(2);
      return this.tok("punct", two, loc);
    }
    if (ONE_CHAR_OPS.has(c)) {
      this.advance(1);
      return this.tok("punct", c, loc);
    }
    if (LABEL_START.test(c)) {
      // A word where a name is not expected: hand it to the parser, which knows what it wanted.
      const word = this.run(PROPNODE_CHAR);
      this.advance(word.length);
      return this.tok("name", word, loc);
    }
    throw dtsError("EDTS_SYNTAX", loc, `unexpected ${JSON.stringify(c)}`);
  }

  private lexString(loc: SourceLoc): Token {
    // dtc's STRING is \"([^\\"]|\\.)*\" : it may span lines.
    let j = this.st.pos + 1;
    while (j < this.text.length && this.text[j] !== '"') j += this.text[j] === "\\" ? 2 : 1;
    if (j >= this.text.length) throw dtsError("EDTS_UNTERMINATED", loc, "unterminated string");
    const body = this.text.slice(this.st.pos + 1, j);
    this.advance(j + 1 - this.st.pos);
    return this.tok("string", `"${body}"`, loc, 0n, decodeEscapes(body));
  }

  private lexChar(loc: SourceLoc): Token {
    let j = this.st.pos + 1;
    while (j < this.text.length && this.text[j] !== "'" && this.text[j] !== "\n") {
      j += this.text[j] === "\\" ? 2 : 1;
    }
    if (this.text[j] !== "'") throw dtsError("EDTS_UNTERMINATED", loc, "unterminated character literal");
    const body = this.text.slice(this.st.pos + 1, j);
    this.advance(j + 1 - this.st.pos);
    const bytes = decodeEscapes(body);
    if (bytes.length === 0) throw dtsError("EDTS_CHAR", loc, "empty character literal");
    if (bytes.length > 1) {
      throw dtsError(
        "EDTS_CHAR",
        loc,
        `character literal '${body}' has ${bytes.length - 1} too many characters`,
      );
    }
    return this.tok("char", `'${body}'`, loc, BigInt(bytes[0] ?? 0));
  }

  private lexNumber(loc: SourceLoc): Token {
    const textRun = this.run(/[A-Za-z0-9_]/);
    this.advance(textRun.length);
    // dtc: ([0-9]+|0[xX][0-9a-fA-F]+)(U|L|UL|LL|ULL)?, value by strtoull(base 0).
    const m = /^(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)(U|L|UL|LL|ULL)?$/.exec(textRun);
    if (!m || m[1] === undefined) throw dtsError("EDTS_BAD_NUMBER", loc, `bad integer literal '${textRun}'`);
    const digits = m[1];
    const value = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
    if (value > U64_MAX) throw dtsError("EDTS_BAD_NUMBER", loc, `integer literal '${textRun}' out of range`);
    return this.tok("number", textRun, loc, value);
  }
}

/**
 * The token stream of a DTS file and everything it /include/s. `peek` may be called with one
 * mode and `next` with another: the stream then rewinds and re-lexes.
 */
export class DtsLexer {
  private stack: Scanner[];
  private peeked: { mode: LexMode; tok: Token; before: { sc: Scanner; st: ScanState }[] } | undefined;

  constructor(
    text: string,
    file: string,
    private readonly readFile: ReadFile = (f) => readFileSync(f, "utf8"),
  ) {
    this.stack = [new Scanner(text, file)];
  }

  peek(mode: LexMode): Token {
    if (this.peeked?.mode === mode) return this.peeked.tok;
    this.rewind();
    const before = this.stack.map((sc) => ({ sc, st: sc.save() }));
    const tok = this.lexAny(mode);
    this.peeked = { mode, tok, before };
    return tok;
  }

  next(mode: LexMode): Token {
    const t = this.peek(mode);
    this.peeked = undefined;
    return t;
  }

  private rewind(): void {
    if (!this.peeked) return;
    this.stack = this.peeked.before.map((b) => b.sc);
    for (const b of this.peeked.before) b.sc.restore(b.st);
    this.peeked = undefined;
  }

  private lexAny(mode: LexMode): Token {
    for (;;) {
      const sc = this.stack[this.stack.length - 1];
      if (!sc) throw new Error("unreachable: empty lexer stack");
      const t = sc.lex(mode);
      if (t.kind === "eof" && this.stack.length > 1) {
        this.stack.pop();
        continue;
      }
      if (t.kind === "directive" && t.text === "/include/") {
        this.pushInclude(sc, t);
        continue;
      }
      return t;
    }
  }

  private pushInclude(sc: Scanner, at: Token): void {
    const nameTok = sc.lex("default");
    if (nameTok.kind !== "string") {
      throw dtsError("EDTS_SYNTAX", nameTok.loc, "/include/ must be followed by a file name in quotes");
    }
    const name = new TextDecoder().decode(nameTok.data);
    const target = path.isAbsolute(name) ? name : path.join(path.dirname(sc.file), name);
    if (this.stack.length >= MAX_INCLUDE_DEPTH) {
      throw dtsError(
        "EDTS_INCLUDE",
        at.loc,
        `/include/ nested more than ${MAX_INCLUDE_DEPTH} deep (include loop?)`,
      );
    }
    let text: string;
    try {
      text = this.readFile(target);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw dtsError("EDTS_INCLUDE", at.loc, `cannot read /include/ "${name}" (${target}): ${why}`);
    }
    this.stack.push(new Scanner(text, target));
  }
}

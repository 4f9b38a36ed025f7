/**
 * Parser for the dtc source language (DTS), producing the shared FdtTree. It follows dtc 1.6's
 * grammar and semantics (dtc-parser.y, livetree.c, checks.c), re-derived, so the tree equals the
 * one dtc compiles: same property order when nodes are merged or deleted and written again, same
 * phandle numbers for `&label` references, same path strings.
 *
 * Parsing builds a private tree that still carries deleted nodes and properties (dtc keeps them so
 * a later definition revives them in their old position) and unresolved references; the
 * reference pass and the conversion to FdtTree follow dtc's check order.
 */

import { SshmError } from "../common/errors.js";
import type { LexMode, ReadFile, Token } from "./dts-lexer.js";
import { DtsLexer, dtsError } from "./dts-lexer.js";
import type { FdtNode, FdtTree, MemReserve, SourceLoc } from "./tree.js";
import { newTree } from "./tree.js";

type Piece =
  | { kind: "bytes"; data: Uint8Array }
  /** `&lbl` inside `<...>`: the target's phandle, a 4-byte cell. */
  | { kind: "phandle"; ref: string; loc: SourceLoc }
  /** `&lbl` as a value: the target's full path as a string. */
  | { kind: "path"; ref: string; loc: SourceLoc }
  /** A label inside a value (`<1 lbl: 2>`); zero bytes, only checked for uniqueness. */
  | { kind: "label"; name: string; loc: SourceLoc };

interface Label {
  name: string;
  loc: SourceLoc;
}

interface PProp {
  name: string;
  pieces: Piece[];
  labels: Label[];
  deleted: boolean;
  loc: SourceLoc;
}

interface PNode {
  name: string;
  parent: PNode | undefined;
  props: PProp[];
  children: PNode[];
  labels: Label[];
  deleted: boolean;
  loc: SourceLoc;
  omitIfNoRef: boolean;
  referenced: boolean;
  /** 0 when the node has none (yet). */
  phandle: number;
}

export interface ParseDtsOptions {
  /** Reads a file named by /include/; defaults to fs.readFileSync(path, "utf8"). */
  readFile?: ReadFile;
}

const MAX_NODE_DEPTH = 200;
const MAX_EXPR_DEPTH = 200;
const U64 = (1n << 64n) - 1n;
const TWO_POW_53 = 2n ** 53n;

/** Binary operators by precedence (C's, as dtc uses them); higher binds tighter. */
const BINARY_PREC: Record<string, number> = {
  "||": 1,
  "&&": 2,
  "|": 3,
  "^": 4,
  "&": 5,
  "==": 6,
  "!=": 6,
  "<": 7,
  ">": 7,
  "<=": 7,
  ">=": 7,
  "<<": 8,
  ">>": 8,
  "+": 9,
  "-": 9,
  "*": 10,
  "/": 10,
  "%": 10,
};

function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of file";
    case "label":
      return `label "${t.text}:"`;
    case "ref":
      return `reference "&${t.text}"`;
    case "pathref":
      return `reference "&{${t.text}}"`;
    case "string":
    case "char":
      return t.text;
    default:
      return `"${t.text}"`;
  }
}

function pathOf(n: PNode): string {
  const parts: string[] = [];
  for (let c: PNode | undefined = n; c?.parent; c = c.parent) parts.unshift(c.name);
  return `/${parts.join("/")}`;
}

function addLabels(to: Label[], labels: readonly Label[]): void {
  for (const l of labels) if (!to.some((x) => x.name === l.name)) to.push(l);
}

function deleteNode(n: PNode): void {
  n.deleted = true;
  n.labels = [];
  for (const p of n.props) {
    p.deleted = true;
    p.labels = [];
  }
  for (const c of n.children) deleteNode(c);
}

function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

class Parser {
  private readonly lx: DtsLexer;
  private readonly root: PNode;
  private readonly memreserve: MemReserve[] = [];
  private exprDepth = 0;

  constructor(
    text: string,
    private readonly file: string,
    readFile: ReadFile | undefined,
  ) {
    this.lx = readFile ? new DtsLexer(text, file, readFile) : new DtsLexer(text, file);
    this.root = this.newNode("", undefined, { file, line: 1, column: 1 });
  }

  private newNode(name: string, parent: PNode | undefined, loc: SourceLoc): PNode {
    return {
      name,
      parent,
      props: [],
      children: [],
      labels: [],
      deleted: false,
      loc,
      omitIfNoRef: false,
      referenced: false,
      phandle: 0,
    };
  }

  private syntax(t: Token, expected: string): never {
    throw dtsError("EDTS_SYNTAX", t.loc, `syntax error: expected ${expected} but found ${describe(t)}`);
  }

  private expect(mode: LexMode, text: string): Token {
    const t = this.lx.next(mode);
    if (t.kind !== "punct" || t.text !== text) this.syntax(t, `"${text}"`);
    return t;
  }

  private isPunct(t: Token, text: string): boolean {
    return t.kind === "punct" && t.text === text;
  }

  private labels(mode: LexMode): Label[] {
    const out: Label[] = [];
    for (let t = this.lx.peek(mode); t.kind === "label"; t = this.lx.peek(mode)) {
      this.lx.next(mode);
      out.push({ name: t.text, loc: t.loc });
    }
    return out;
  }

  // ---- top level ----

  parse(): FdtTree {
    const first = this.lx.next("default");
    if (first.kind !== "directive" || first.text !== "/dts-v1/") {
      throw dtsError(
        "EDTS_NO_V1",
        first.loc,
        `missing /dts-v1/; at the start of the file (found ${describe(first)}); dtc requires it`,
      );
    }
    this.expect("default", ";");
    let seenRoot = false;
    for (;;) {
      const labels = this.labels("default");
      const t = this.lx.peek("default");
      if (t.kind === "eof") {
        if (labels.length > 0) this.syntax(t, "a node after the label");
        if (!seenRoot) throw dtsError("EDTS_NO_ROOT", t.loc, "no root node: expected / { ... };");
        break;
      }
      if (t.kind === "directive" && t.text === "/dts-v1/" && !seenRoot && this.memreserve.length === 0) {
        this.lx.next("default");
        this.expect("default", ";");
      } else if (t.kind === "directive" && t.text === "/plugin/") {
        throw dtsError("EDTS_UNSUPPORTED", t.loc, "/plugin/ (device-tree overlays) is not supported");
      } else if (t.kind === "directive" && t.text === "/memreserve/") {
        if (seenRoot) this.syntax(t, "a node (/memreserve/ must come before the root node)");
        this.lx.next("default");
        this.parseMemreserve(t);
      } else if (this.isPunct(t, "/")) {
        this.lx.next("default");
        if (!seenRoot) this.root.loc = t.loc;
        addLabels(this.root.labels, labels);
        this.parseBody(this.root, 0);
        seenRoot = true;
      } else if (t.kind === "ref" || t.kind === "pathref") {
        if (!seenRoot) this.syntax(t, "the root node / { ... }; before any &reference");
        this.lx.next("default");
        const target = this.lookupAtParse(t);
        addLabels(target.labels, labels);
        this.parseBody(target, 0);
      } else if (t.kind === "directive" && (t.text === "/delete-node/" || t.text === "/omit-if-no-ref/")) {
        if (!seenRoot) this.syntax(t, `the root node / { ... }; before ${t.text}`);
        this.lx.next("default");
        const r = this.lx.next("default");
        if (r.kind !== "ref" && r.kind !== "pathref") this.syntax(r, `&label or &{/path} after ${t.text}`);
        const target = this.lookupAtParse(r);
        this.expect("default", ";");
        if (t.text === "/delete-node/") {
          if (target === this.root) throw dtsError("EDTS_SYNTAX", r.loc, "cannot delete the root node");
          deleteNode(target);
        } else target.omitIfNoRef = true;
      } else {
        this.syntax(
          t,
          seenRoot ? "/ { ... }; or &label { ... };" : "/memreserve/ or the root node / { ... };",
        );
      }
    }
    return this.finish();
  }

  private parseMemreserve(at: Token): void {
    const addr = this.integerPrim();
    const size = this.integerPrim();
    this.expect("default", ";");
    if (addr.value >= TWO_POW_53 || size.value >= TWO_POW_53) {
      throw dtsError(
        "EDTS_RANGE",
        at.loc,
        `/memreserve/ 0x${addr.value.toString(16)} 0x${size.value.toString(16)} reaches 2^53, beyond what sshm represents exactly`,
      );
    }
    this.memreserve.push({ address: Number(addr.value), size: Number(size.value) });
  }

  /** A top-level `&ref` is resolved immediately, against the tree as parsed so far (as dtc does). */
  private lookupAtParse(t: Token): PNode {
    const ref = t.text;
    const n = this.nodeByRef(ref);
    if (!n) {
      throw dtsError(
        "EDTS_UNKNOWN_LABEL",
        t.loc,
        `label or path ${t.kind === "ref" ? `&${ref}` : `&{${ref}}`} not found`,
      );
    }
    return n;
  }

  // ---- nodes ----

  /** Parse `{ props subnodes } ;` into `node`, merging with what it already holds. */
  private parseBody(node: PNode, depth: number): void {
    const open = this.expect("default", "{");
    if (depth > MAX_NODE_DEPTH) {
      throw dtsError("EDTS_NESTING", open.loc, `nodes nested more than ${MAX_NODE_DEPTH} deep`);
    }
    const propsHere = new Set<string>();
    const childrenHere = new Set<string>();
    let seenChild = false;
    const propAfterChild = (loc: SourceLoc): never => {
      throw dtsError("EDTS_PROP_AFTER_NODE", loc, "properties must precede subnodes");
    };
    for (;;) {
      const labels = this.labels("name");
      const t = this.lx.next("name");
      if (this.isPunct(t, "}") && labels.length === 0) break;
      if (t.kind === "directive" && t.text === "/delete-property/") {
        const name = this.lx.next("name");
        if (name.kind !== "name") this.syntax(name, "a property name after /delete-property/");
        this.expect("default", ";");
        if (seenChild) propAfterChild(t.loc);
        const p = node.props.find((x) => !x.deleted && x.name === name.text);
        if (p) {
          p.deleted = true;
          p.labels = [];
        }
        continue;
      }
      if (t.kind === "directive" && t.text === "/delete-node/") {
        const name = this.lx.next("name");
        if (name.kind !== "name") this.syntax(name, "a node name after /delete-node/");
        this.expect("default", ";");
        const c = node.children.find((x) => !x.deleted && x.name === name.text);
        if (c) deleteNode(c);
        seenChild = true;
        continue;
      }
      let omit = false;
      let nameTok = t;
      const moreLabels: Label[] = [];
      if (t.kind === "directive" && t.text === "/omit-if-no-ref/") {
        omit = true;
        moreLabels.push(...this.labels("name"));
        nameTok = this.lx.next("name");
      }
      if (nameTok.kind !== "name") {
        this.syntax(
          nameTok,
          labels.length > 0 ? "a property or node name after the label" : "a property, a node or }",
        );
      }
      const after = this.lx.peek("default");
      if (this.isPunct(after, "=") || this.isPunct(after, ";")) {
        this.lx.next("default");
        if (omit) this.syntax(after, `"{" (/omit-if-no-ref/ applies to nodes)`);
        if (seenChild) propAfterChild(nameTok.loc);
        const pieces = this.isPunct(after, "=") ? this.parseValue() : [];
        if (propsHere.has(nameTok.text)) {
          throw dtsError(
            "EDTS_DUPLICATE",
            nameTok.loc,
            `duplicate property name "${nameTok.text}" in the same node`,
          );
        }
        propsHere.add(nameTok.text);
        this.setProp(node, nameTok.text, pieces, labels, nameTok.loc);
      } else if (this.isPunct(after, "{")) {
        seenChild = true;
        if (childrenHere.has(nameTok.text)) {
          throw dtsError(
            "EDTS_DUPLICATE",
            nameTok.loc,
            `duplicate node name "${nameTok.text}" in the same node`,
          );
        }
        childrenHere.add(nameTok.text);
        let child = node.children.find((c) => c.name === nameTok.text);
        if (child) {
          child.deleted = false;
        } else {
          child = this.newNode(nameTok.text, node, nameTok.loc);
          node.children.push(child);
        }
        addLabels(child.labels, [...labels, ...moreLabels]);
        if (omit) child.omitIfNoRef = true;
        this.parseBody(child, depth + 1);
      } else {
        this.syntax(after, `"=", ";" or "{" after "${nameTok.text}"`);
      }
    }
    this.expect("default", ";");
  }

  /** dtc's merge rule: a property written again keeps its place (even if deleted meanwhile). */
  private setProp(node: PNode, name: string, pieces: Piece[], labels: Label[], loc: SourceLoc): void {
    const old = node.props.find((p) => p.name === name);
    if (old) {
      old.pieces = pieces;
      old.deleted = false;
      old.loc = loc;
      addLabels(old.labels, labels);
    } else {
      const p: PProp = { name, pieces, labels: [], deleted: false, loc };
      addLabels(p.labels, labels);
      node.props.push(p);
    }
  }

  // ---- values ----

  /** Property value after `=`, up to and including `;`. */
  private parseValue(): Piece[] {
    const pieces: Piece[] = [];
    for (;;) {
      for (const l of this.labels("default")) pieces.push({ kind: "label", name: l.name, loc: l.loc });
      const t = this.lx.next("default");
      if (t.kind === "string") {
        const b = new Uint8Array(t.data.length + 1);
        b.set(t.data);
        pieces.push({ kind: "bytes", data: b });
      } else if (this.isPunct(t, "<")) {
        this.parseCells(32, pieces);
      } else if (t.kind === "directive" && t.text === "/bits/") {
        const w = this.lx.next("default");
        if (w.kind !== "number" || ![8n, 16n, 32n, 64n].includes(w.value)) {
          throw dtsError("EDTS_BITS", w.loc, "/bits/ takes 8, 16, 32 or 64 (array element size in bits)");
        }
        this.expect("default", "<");
        this.parseCells(Number(w.value), pieces);
      } else if (this.isPunct(t, "[")) {
        this.parseBytes(pieces);
      } else if (t.kind === "ref" || t.kind === "pathref") {
        pieces.push({ kind: "path", ref: t.text, loc: t.loc });
      } else if (t.kind === "directive" && t.text === "/incbin/") {
        throw dtsError("EDTS_UNSUPPORTED", t.loc, "/incbin/ is not supported");
      } else {
        this.syntax(t, 'a value ("string", <cells>, [bytes] or &reference)');
      }
      for (const l of this.labels("default")) pieces.push({ kind: "label", name: l.name, loc: l.loc });
      const sep = this.lx.next("default");
      if (this.isPunct(sep, ";")) return pieces;
      if (!this.isPunct(sep, ",")) this.syntax(sep, '"," or ";"');
    }
  }

  private parseCells(bits: number, pieces: Piece[]): void {
    const mask = (1n << BigInt(bits)) - 1n;
    const bytes = bits / 8;
    const cells: number[] = [];
    const flush = (): void => {
      if (cells.length > 0) pieces.push({ kind: "bytes", data: Uint8Array.from(cells) });
      cells.length = 0;
    };
    for (;;) {
      const t = this.lx.peek("default");
      if (this.isPunct(t, ">")) {
        this.lx.next("default");
        flush();
        return;
      }
      if (t.kind === "label") {
        this.lx.next("default");
        flush();
        pieces.push({ kind: "label", name: t.text, loc: t.loc });
        continue;
      }
      if (t.kind === "ref" || t.kind === "pathref") {
        this.lx.next("default");
        if (bits !== 32) {
          throw dtsError("EDTS_BITS", t.loc, "references are only allowed in arrays with 32-bit elements");
        }
        flush();
        pieces.push({ kind: "phandle", ref: t.text, loc: t.loc });
        continue;
      }
      if (t.kind !== "number" && t.kind !== "char" && !this.isPunct(t, "(")) {
        this.lx.next("default");
        this.syntax(t, 'a number, a character, "(expression)", a &reference or ">"');
      }
      const v = this.integerPrim();
      // Like dtc: bits above the element size must be all zero, or all one (a negative value).
      if (v.value > mask && (v.value | mask) !== U64) {
        throw dtsError(
          "EDTS_RANGE",
          v.loc,
          `value 0x${v.value.toString(16)} out of range for ${bits}-bit array element`,
        );
      }
      const x = v.value & mask;
      for (let i = bytes - 1; i >= 0; i--) cells.push(Number((x >> BigInt(i * 8)) & 0xffn));
    }
  }

  private parseBytes(pieces: Piece[]): void {
    const data: number[] = [];
    for (;;) {
      const t = this.lx.next("bytes");
      if (t.kind === "byte") data.push(Number(t.value));
      else if (t.kind === "label") {
        if (data.length > 0) pieces.push({ kind: "bytes", data: Uint8Array.from(data) });
        data.length = 0;
        pieces.push({ kind: "label", name: t.text, loc: t.loc });
      } else break; // the lexer only returns "]" otherwise
    }
    if (data.length > 0) pieces.push({ kind: "bytes", data: Uint8Array.from(data) });
  }

  // ---- integer expressions (unsigned 64-bit, like dtc's uint64_t) ----

  /** A literal, a character, or a parenthesised expression: what dtc allows as a cell. */
  private integerPrim(): { value: bigint; loc: SourceLoc } {
    const t = this.lx.next("default");
    if (t.kind === "number" || t.kind === "char") return { value: t.value, loc: t.loc };
    if (this.isPunct(t, "(")) {
      if (++this.exprDepth > MAX_EXPR_DEPTH) {
        throw dtsError("EDTS_NESTING", t.loc, `expression nested more than ${MAX_EXPR_DEPTH} deep`);
      }
      const value = this.expr();
      this.expect("default", ")");
      this.exprDepth--;
      return { value, loc: t.loc };
    }
    return this.syntax(t, 'a number, a character or "("');
  }

  private expr(): bigint {
    const cond = this.binary(1);
    if (!this.isPunct(this.lx.peek("default"), "?")) return cond;
    this.lx.next("default");
    const a = this.expr();
    this.expect("default", ":");
    const b = this.expr();
    return cond !== 0n ? a : b;
  }

  private binary(minPrec: number): bigint {
    let left = this.unary();
    for (;;) {
      const op = this.lx.peek("default");
      const prec = op.kind === "punct" ? BINARY_PREC[op.text] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.lx.next("default");
      const right = this.binary(prec + 1);
      left = this.apply(op, left, right);
    }
  }

  private apply(op: Token, a: bigint, b: bigint): bigint {
    const bool = (x: boolean): bigint => (x ? 1n : 0n);
    switch (op.text) {
      case "+":
        return (a + b) & U64;
      case "-":
        return (a - b) & U64;
      case "*":
        return (a * b) & U64;
      case "/":
      case "%":
        if (b === 0n) throw dtsError("EDTS_DIV_ZERO", op.loc, "division by zero");
        return op.text === "/" ? a / b : a % b;
      case "<<":
        return b < 64n ? (a << b) & U64 : 0n;
      case ">>":
        return b < 64n ? a >> b : 0n;
      case "<":
        return bool(a < b);
      case ">":
        return bool(a > b);
      case "<=":
        return bool(a <= b);
      case ">=":
        return bool(a >= b);
      case "==":
        return bool(a === b);
      case "!=":
        return bool(a !== b);
      case "&":
        return a & b;
      case "^":
        return a ^ b;
      case "|":
        return a | b;
      case "&&":
        return bool(a !== 0n && b !== 0n);
      default: // "||"
        return bool(a !== 0n || b !== 0n);
    }
  }

  private unary(): bigint {
    const t = this.lx.peek("default");
    if (t.kind === "punct" && (t.text === "-" || t.text === "~" || t.text === "!")) {
      this.lx.next("default");
      if (++this.exprDepth > MAX_EXPR_DEPTH) {
        throw dtsError("EDTS_NESTING", t.loc, `expression nested more than ${MAX_EXPR_DEPTH} deep`);
      }
      const v = this.unary();
      this.exprDepth--;
      if (t.text === "-") return (0n - v) & U64;
      if (t.text === "~") return v ^ U64;
      return v === 0n ? 1n : 0n;
    }
    return this.integerPrim().value;
  }

  // ---- references and the final tree ----

  private nodeByRef(ref: string): PNode | undefined {
    if (ref === "/") return this.root;
    if (ref.startsWith("/")) return this.nodeByPath(this.root, ref.slice(1));
    // "label/sub/path" is a path below a labelled node.
    const slash = ref.indexOf("/");
    const label = slash < 0 ? ref : ref.slice(0, slash);
    const base = this.nodeByLabel(this.root, label);
    if (!base || slash < 0) return base;
    return this.nodeByPath(base, ref.slice(slash + 1));
  }

  private nodeByLabel(n: PNode, label: string): PNode | undefined {
    if (n.labels.some((l) => l.name === label)) return n;
    for (const c of n.children) {
      if (c.deleted) continue;
      const f = this.nodeByLabel(c, label);
      if (f) return f;
    }
    return undefined;
  }

  private nodeByPath(from: PNode, p: string): PNode | undefined {
    let n: PNode | undefined = from;
    for (const part of p.split("/")) {
      if (part === "") continue;
      n = n?.children.find((c) => !c.deleted && c.name === part);
      if (!n) return undefined;
    }
    return n;
  }

  private *live(n: PNode): Generator<PNode> {
    yield n;
    for (const c of n.children) if (!c.deleted) yield* this.live(c);
  }

  private checkLabels(): void {
    const seen = new Map<string, string>();
    const see = (l: Label, owner: string): void => {
      const prev = seen.get(l.name);
      if (prev !== undefined && prev !== owner) {
        throw dtsError("EDTS_DUPLICATE_LABEL", l.loc, `duplicate label '${l.name}' on ${owner} and ${prev}`);
      }
      seen.set(l.name, owner);
    };
    for (const n of this.live(this.root)) {
      const np = pathOf(n);
      for (const l of n.labels) see(l, np);
      for (const p of n.props) {
        if (p.deleted) continue;
        for (const l of p.labels) see(l, `${np}:${p.name}`);
        for (const x of p.pieces) if (x.kind === "label") see(x, `${np}:${p.name} (in the value)`);
      }
    }
  }

  private checkExplicitPhandles(used: Map<number, PNode>): void {
    for (const n of this.live(this.root)) {
      for (const p of n.props) {
        if (p.deleted || (p.name !== "phandle" && p.name !== "linux,phandle")) continue;
        // `phandle = <&self>` is resolved with the other references.
        if (p.pieces.some((x) => x.kind === "phandle")) continue;
        const v = flatten(
          p.pieces,
          () => 0,
          () => "",
        );
        if (v.length !== 4) {
          throw dtsError(
            "EDTS_PHANDLE",
            p.loc,
            `${p.name} property has invalid length (${v.length} bytes, expected 4)`,
          );
        }
        const ph = new DataView(v.buffer, v.byteOffset).getUint32(0);
        if (ph === 0 || ph === 0xffffffff) {
          throw dtsError("EDTS_PHANDLE", p.loc, `bad value (0x${ph.toString(16)}) in ${p.name} property`);
        }
        if (n.phandle !== 0 && n.phandle !== ph) {
          throw dtsError(
            "EDTS_PHANDLE",
            p.loc,
            `${p.name} 0x${ph.toString(16)} disagrees with 0x${n.phandle.toString(16)}`,
          );
        }
        const other = used.get(ph);
        if (other && other !== n) {
          throw dtsError(
            "EDTS_PHANDLE",
            p.loc,
            `duplicated phandle 0x${ph.toString(16)} (seen before at ${pathOf(other)})`,
          );
        }
        used.set(ph, n);
        n.phandle = ph;
      }
    }
  }

  private resolve(x: { ref: string; loc: SourceLoc }): PNode {
    const n = this.nodeByRef(x.ref);
    if (!n) {
      const shown = x.ref.startsWith("/") ? `&{${x.ref}}` : `&${x.ref}`;
      throw dtsError("EDTS_UNKNOWN_LABEL", x.loc, `reference to non-existent node or label ${shown}`);
    }
    n.referenced = true;
    return n;
  }

  private finish(): FdtTree {
    this.checkLabels();
    const used = new Map<number, PNode>();
    this.checkExplicitPhandles(used);

    // dtc hands out phandles in tree order of the references, from a counter that starts at 1
    // and skips values already taken, and appends a "phandle" property to each target.
    let next = 1;
    const phandles = new Map<Piece, number>();
    for (const n of this.live(this.root)) {
      for (const p of n.props) {
        if (p.deleted) continue;
        for (const x of p.pieces) {
          if (x.kind !== "phandle") continue;
          const target = this.resolve(x);
          if (target.phandle === 0) {
            while (used.has(next)) next++;
            target.phandle = next;
            used.set(next, target);
            if (!target.props.some((q) => !q.deleted && q.name === "phandle")) {
              target.props.push({
                name: "phandle",
                pieces: [{ kind: "bytes", data: u32be(next) }],
                labels: [],
                deleted: false,
                loc: x.loc,
              });
            }
          }
          phandles.set(x, target.phandle);
        }
      }
    }
    const paths = new Map<Piece, string>();
    for (const n of this.live(this.root)) {
      for (const p of n.props) {
        if (p.deleted) continue;
        for (const x of p.pieces) if (x.kind === "path") paths.set(x, pathOf(this.resolve(x)));
      }
    }
    for (const n of [...this.live(this.root)])
      if (n.omitIfNoRef && !n.referenced && !n.deleted) deleteNode(n);

    const tree = newTree(this.file);
    tree.memreserve = this.memreserve;
    const convert = (n: PNode): FdtNode => ({
      name: n.name,
      props: n.props
        .filter((p) => !p.deleted)
        .map((p) => ({
          name: p.name,
          value: flatten(
            p.pieces,
            (x) => phandles.get(x) ?? 0,
            (x) => paths.get(x) ?? "",
          ),
          labels: p.labels.map((l) => l.name),
          loc: p.loc,
        })),
      children: n.children.filter((c) => !c.deleted).map(convert),
      labels: n.labels.map((l) => l.name),
      loc: n.loc,
    });
    tree.root = convert(this.root);
    return tree;
  }
}

function flatten(pieces: Piece[], phandle: (p: Piece) => number, path: (p: Piece) => string): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const x of pieces) {
    if (x.kind === "bytes") parts.push(x.data);
    else if (x.kind === "phandle") parts.push(u32be(phandle(x)));
    else if (x.kind === "path") parts.push(enc.encode(`${path(x)}\0`));
  }
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/**
 * Parse DTS source into a tree. `file` names the source in error messages and is the base for
 * relative /include/ paths. Throws SshmError (codes EDTS_*) naming file:line:column.
 */
export function parseDts(text: string, file = "<dts>", opts: ParseDtsOptions = {}): FdtTree {
  try {
    return new Parser(text, file, opts.readFile).parse();
  } catch (e) {
    if (e instanceof SshmError) throw e;
    // A RangeError from a pathological input (e.g. stack exhaustion) still surfaces as ours.
    if (e instanceof RangeError) {
      throw new SshmError("EDTS_LIMIT", `input too complex to parse: ${e.message}`, { file });
    }
    throw e;
  }
}

/**
 * A tiny XML well-formedness checker and tree builder for the SVG tests (Node has no DOMParser).
 * It rejects what a real XML parser rejects in our output: unbalanced or crossed tags, several
 * roots, duplicate attributes, unquoted values, a raw "<" in text or values, unknown entities,
 * characters XML 1.0 forbids. Returns a small tree the tests can query.
 */

export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:.-]/;
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function decodeEntities(s: string, at: number): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "<") throw new Error(`raw "<" at ${at + i}`);
    if (c !== "&") {
      out += c;
      i++;
      continue;
    }
    const semi = s.indexOf(";", i);
    if (semi < 0) throw new Error(`unterminated entity at ${at + i}`);
    const name = s.slice(i + 1, semi);
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (name in named) out += named[name];
    else if (/^#[0-9]+$/.test(name)) out += String.fromCodePoint(Number(name.slice(1)));
    else if (/^#x[0-9a-fA-F]+$/.test(name)) out += String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    else throw new Error(`unknown entity &${name}; at ${at + i}`);
    i = semi + 1;
  }
  return out;
}

export function parseXml(src: string): XmlElement {
  const bad = FORBIDDEN.exec(src);
  if (bad) throw new Error(`forbidden character U+${bad[0].charCodeAt(0).toString(16)} at ${bad.index}`);
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at offset ${i}: ${JSON.stringify(src.slice(i, i + 40))}`);
  };
  const readName = (): string => {
    const s = i;
    if (!NAME_START.test(src[i] ?? "")) fail("expected a name");
    while (i < src.length && NAME_CHAR.test(src[i]!)) i++;
    return src.slice(s, i);
  };
  const skipWs = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  if (src.startsWith("<?xml")) {
    const e = src.indexOf("?>");
    if (e < 0) fail("unterminated XML declaration");
    i = e + 2;
  }
  while (i < src.length) {
    if (src.startsWith("<!--", i)) {
      const e = src.indexOf("-->", i + 4);
      if (e < 0) fail("unterminated comment");
      i = e + 3;
    } else if (src.startsWith("</", i)) {
      i += 2;
      const name = readName();
      skipWs();
      if (src[i] !== ">") fail("expected > after end tag");
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) fail(`end tag </${name}> does not match <${open?.name ?? "nothing"}>`);
    } else if (src[i] === "<") {
      i++;
      const el: XmlElement = { name: readName(), attrs: new Map(), children: [] };
      for (;;) {
        const before = i;
        skipWs();
        if (src.startsWith("/>", i) || src[i] === ">") break;
        if (i === before) fail("expected whitespace before attribute");
        const an = readName();
        skipWs();
        if (src[i] !== "=") fail(`attribute ${an} without value`);
        i++;
        skipWs();
        const q = src[i];
        if (q !== '"' && q !== "'") fail(`unquoted value of ${an}`);
        const e = src.indexOf(q as string, i + 1);
        if (e < 0) fail("unterminated attribute value");
        if (el.attrs.has(an)) fail(`duplicate attribute ${an}`);
        el.attrs.set(an, decodeEntities(src.slice(i + 1, e), i + 1));
        i = e + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) fail("second root element");
      else root = el;
      if (src.startsWith("/>", i)) i += 2;
      else {
        i++;
        stack.push(el);
      }
    } else {
      const e = src.indexOf("<", i);
      const end = e < 0 ? src.length : e;
      const text = decodeEntities(src.slice(i, end), i);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(text);
      else if (text.trim() !== "") fail("text outside the root element");
      i = end;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error("no root element");
  return root;
}

/** Every element below (and including) `el`, document order. */
export function all(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [el];
  for (const c of el.children) if (typeof c !== "string") out.push(...all(c));
  return out;
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

export const hasClass = (el: XmlElement, cls: string) =>
  (el.attrs.get("class") ?? "").split(/\s+/).includes(cls);

export function byClass(root: XmlElement, cls: string): XmlElement[] {
  return all(root).filter((e) => hasClass(e, cls));
}

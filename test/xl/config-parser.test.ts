import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/errors.js";
import type { XlAtom, XlConfig, XlValue } from "../../src/xl/index.js";
import { parseXlConfig, XL_CODES } from "../../src/xl/index.js";

/** Parse and return the thrown SshmError (fails the test when nothing or something else is thrown). */
function parseError(text: string, file = "t.cfg"): { code: string; message: string } {
  try {
    parseXlConfig(text, file);
  } catch (e) {
    if (!isSshmError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
}

function atom(cfg: XlConfig, name: string): XlAtom {
  const v = cfg.settings.get(name)?.value;
  if (v?.kind !== "atom") throw new Error(`${name} is not an atom`);
  return v;
}

/** A value as plain data: strings for atoms, arrays for lists. */
function plain(v: XlValue | undefined): unknown {
  if (v === undefined) return undefined;
  return v.kind === "atom" ? v.text : v.items.map(plain);
}

describe("xl config parser: accepted syntax", () => {
  it("reads key = value settings with numbers, both quote styles and lists", () => {
    const cfg = parseXlConfig(
      `name = "vm1"\nmemory = 256\nkernel='/boot/Image'\ndisk = [ 'a', "b" ]\n`,
      "vm.cfg",
    );
    expect([...cfg.settings.keys()]).toEqual(["name", "memory", "kernel", "disk"]);
    expect(plain(cfg.settings.get("name")?.value)).toBe("vm1");
    expect(atom(cfg, "memory").token).toBe("number");
    expect(atom(cfg, "memory").text).toBe("256");
    expect(atom(cfg, "name").token).toBe("string");
    expect(plain(cfg.settings.get("kernel")?.value)).toBe("/boot/Image");
    expect(plain(cfg.settings.get("disk")?.value)).toEqual(["a", "b"]);
  });

  it("records 1-based line and column of names, values and every string character", () => {
    const cfg = parseXlConfig(`# c\n\n  name =\t"ab"\n`, "vm.cfg");
    const set = cfg.settings.get("name");
    expect(set?.loc).toEqual({ file: "vm.cfg", line: 3, column: 3 });
    const a = atom(cfg, "name");
    expect(a.loc).toEqual({ file: "vm.cfg", line: 3, column: 10 });
    expect(a.charLocs.map((l) => l.column)).toEqual([11, 12, 13]);
  });

  it("accepts ';' as a separator, comments, blank lines and a last line without newline", () => {
    const cfg = parseXlConfig("a = 1; b = 2 # two\n\n;;\nc = 3", "t.cfg");
    expect([...cfg.settings.keys()]).toEqual(["a", "b", "c"]);
  });

  it("accepts a comment on the last line without a final newline", () => {
    expect(parseXlConfig('a = "x"\n# end', "t.cfg").settings.size).toBe(1);
  });

  it("accepts CRLF line ends", () => {
    const cfg = parseXlConfig('a = "x"\r\nb = [\r\n "y",\r\n]\r\n', "t.cfg");
    expect(plain(cfg.settings.get("b")?.value)).toEqual(["y"]);
    expect(cfg.settings.get("b")?.loc.line).toBe(2);
  });

  it("accepts lists over several lines, with comments inside and a trailing comma", () => {
    const cfg = parseXlConfig('l = [\n  "a", # first\n\n  "b"\n  ,\n  "c",\n]\nm = 1\n', "t.cfg");
    expect(plain(cfg.settings.get("l")?.value)).toEqual(["a", "b", "c"]);
    expect(cfg.settings.get("m")?.loc.line).toBe(8);
  });

  it("accepts empty lists and nested lists", () => {
    const cfg = parseXlConfig("e = []\nf = [\n]\ng = [ [ 1, 2 ], [], 3 ]\n", "t.cfg");
    expect(plain(cfg.settings.get("e")?.value)).toEqual([]);
    expect(plain(cfg.settings.get("f")?.value)).toEqual([]);
    expect(plain(cfg.settings.get("g")?.value)).toEqual([["1", "2"], [], "3"]);
  });

  it("decodes the escapes xl accepts", () => {
    const cfg = parseXlConfig(
      [String.raw`s = "q\"s\'b\\a\ab\bf\fn\nr\rt\tv\v"`, String.raw`t = 'it\'s'`].join("\n"),
      "t.cfg",
    );
    expect(atom(cfg, "s").text).toBe("q\"s'b\\a\x07b\bf\fn\nr\rt\tv\v");
    expect(atom(cfg, "t").text).toBe("it's");
    // Each decoded character maps to the column of its first source character.
    expect(atom(cfg, "t").charLocs.map((l) => l.column)).toEqual([6, 7, 8, 10, 11]);
  });

  it("keeps a stray carriage return inside a string, as libxlu does", () => {
    expect(atom(parseXlConfig('a = "x\ry"\n', "t.cfg"), "a").text).toBe("x\ry");
  });

  it("keeps numbers as text the way the lexer cuts them ([0-9][0-9a-fx]*)", () => {
    const cfg = parseXlConfig("b = 0xfe\nc = 12abc\n", "t.cfg");
    expect(atom(cfg, "b").text).toBe("0xfe");
    expect(atom(cfg, "c").text).toBe("12abc");
  });

  it("lets a later assignment replace an earlier one, and keeps all statements", () => {
    const cfg = parseXlConfig('a = "x"\na = "y"\n', "t.cfg");
    expect(atom(cfg, "a").text).toBe("y");
    expect(cfg.settings.get("a")?.loc.line).toBe(2);
    expect(cfg.statements).toHaveLength(2);
  });

  it("implements += for strings (concatenation) and lists (append)", () => {
    const cfg = parseXlConfig('s = "ab"\ns += "cd"\nl = [ "x" ]\nl += [ "y", "z" ]\nn += "new"\n', "t.cfg");
    expect(atom(cfg, "s").text).toBe("abcd");
    expect(cfg.settings.get("s")?.op).toBe("+=");
    // Character locations follow the pieces: "ab" on line 1, "cd" on line 2.
    expect(atom(cfg, "s").charLocs.map((l) => `${l.line}:${l.column}`)).toEqual([
      "1:6",
      "1:7",
      "2:7",
      "2:8",
      "2:9",
    ]);
    expect(plain(cfg.settings.get("l")?.value)).toEqual(["x", "y", "z"]);
    expect(atom(cfg, "n").text).toBe("new");
    expect(cfg.settings.get("n")?.op).toBe("+=");
  });
});

describe("xl config parser: errors name file:line:column and what was expected", () => {
  const cases: [string, string, string][] = [
    [
      "missing '='",
      'name "vm1"\n',
      "t.cfg:1:6: config parsing error near `\"vm1\"': syntax error, unexpected string, expecting '=' or '+='",
    ],
    [
      "two settings on one line",
      "a = 1 b = 2\n",
      "t.cfg:1:7: config parsing error near `b': syntax error, unexpected name, expecting newline or ';'",
    ],
    [
      "missing value at end of file",
      "a = 1\nb =",
      "t.cfg:2:4: config parsing error near end of file: syntax error, unexpected end of file, expecting string, number or '['",
    ],
    [
      "missing value before newline",
      "b =\nc = 1\n",
      "t.cfg:1:4: config parsing error near <newline>: syntax error, unexpected newline, expecting string, number or '['",
    ],
    [
      "stray ']'",
      "a = 1\n  ]\n",
      "t.cfg:2:3: config parsing error near `]': syntax error, unexpected ']', expecting name, newline, ';' or end of file",
    ],
    [
      "value where a name belongs",
      '"a" = 1\n',
      "t.cfg:1:1: config parsing error near `\"a\"': syntax error, unexpected string, expecting name, newline, ';' or end of file",
    ],
    [
      "list without comma",
      'l = [ "a" "b" ]\n',
      "t.cfg:1:11: config parsing error near `\"b\"': syntax error, unexpected string, expecting ',' or ']'",
    ],
    [
      "list starting with a comma",
      "l = [ , ]\n",
      "t.cfg:1:7: config parsing error near `,': syntax error, unexpected ',', expecting string, number or '['",
    ],
    [
      "two commas in a list",
      'l = [ "a",, ]\n',
      "t.cfg:1:11: config parsing error near `,': syntax error, unexpected ',', expecting string, number, '[' or ']'",
    ],
    [
      "unclosed list",
      'l = [ "a",\n "b"\n',
      "t.cfg:3:1: config parsing error near end of file: syntax error, unexpected end of file, expecting ',' or ']'",
    ],
    [
      "uppercase setting name",
      'Name = "vm1"\n',
      "t.cfg:1:1: config parsing error near `Name': lexical error: unexpected character 'N' (setting names are lowercase: [a-z][_0-9a-z]*)",
    ],
    [
      "Python arithmetic",
      "memory = 128 + 128\n",
      "t.cfg:1:14: config parsing error near `+': lexical error: unexpected character '+' (xl config files are not Python: only key = value settings are allowed)",
    ],
    [
      "Python parentheses",
      "memory = (128)\n",
      "t.cfg:1:10: config parsing error near `(128)': lexical error: unexpected character '(' (xl config files are not Python: only key = value settings are allowed)",
    ],
    [
      "a bare word as value",
      "kernel = os.path\n",
      "t.cfg:1:10: config parsing error near `os': syntax error, unexpected name, expecting string, number or '['",
    ],
    [
      "uppercase hex digit right after a number",
      "a = 0x1F\n",
      "t.cfg:1:8: config parsing error near `F': lexical error: unexpected character 'F' (setting names are lowercase: [a-z][_0-9a-z]*)",
    ],
    [
      "control character",
      "a = \x01\n",
      "t.cfg:1:5: config parsing error near `\x01': lexical error: unexpected character '\\x01'",
    ],
    [
      "lone carriage return",
      "a = 1\rb = 2\n",
      "t.cfg:1:6: config parsing error near `\\r': lexical error: carriage return not followed by a newline",
    ],
    [
      "string running into the next line",
      'a = "abc\ndef"\n',
      "t.cfg:1:5: config parsing error near `\"abc': lexical error: unterminated double-quoted string (a string must end on the line it starts)",
    ],
    [
      "single-quoted string running to end of file",
      "a = 'abc",
      "t.cfg:1:5: config parsing error near `'abc': lexical error: unterminated single-quoted string (a string must end on the line it starts)",
    ],
    [
      "backslash at end of line",
      'a = "abc\\\n"\n',
      "t.cfg:1:5: config parsing error near `\"abc\\': lexical error: unterminated double-quoted string (a string must end on the line it starts)",
    ],
    [
      "unknown escape",
      'a = "x\\qy"\n',
      "t.cfg:1:7: config parsing error near `\"x\\qy\"': invalid character after backslash in quoted string: 'q'",
    ],
    [
      "backslash before a carriage return",
      'a = "x\\\ry"\n',
      "t.cfg:1:7: config parsing error near `\"x\\': invalid character after backslash in quoted string: '\\x0d'",
    ],
    [
      "hex escape",
      'a = "\\x41"\n',
      't.cfg:1:6: config parsing error near `"\\x41"\': numeric character escape \\x... in quoted string is not supported (xl rejects \\x escapes and silently drops octal ones)',
    ],
    [
      "octal escape",
      'a = "\\101"\n',
      't.cfg:1:6: config parsing error near `"\\101"\': numeric character escape \\1... in quoted string is not supported (xl rejects \\x escapes and silently drops octal ones)',
    ],
    [
      "+= mixing a list and a string",
      'a = [ "x" ]\na += "y"\n',
      "t.cfg:2:6: config parsing error near `a': can't add [list] to \"string\" or vice versa (setting `a')",
    ],
    [
      "'+' alone",
      "a + 1\n",
      "t.cfg:1:3: config parsing error near `+': lexical error: unexpected character '+' (xl config files are not Python: only key = value settings are allowed)",
    ],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      expect(parseError(text)).toEqual({ code: XL_CODES.syntax, message });
    });
  }

  it("counts lines across comments and multi-line lists", () => {
    const text = '# header\nl = [\n  "a", # x\n  "b"\n]\n\nb = = 1\n';
    expect(parseError(text).message).toBe(
      "t.cfg:7:5: config parsing error near `=': syntax error, unexpected '=', expecting string, number or '['",
    );
  });

  it("counts a tab as one column", () => {
    expect(parseError("\ta\t=\t=\n").message).toMatch(/^t\.cfg:1:6: /);
  });

  it("shortens a very long near-text", () => {
    const msg = parseError(`a = 1 ${"b".repeat(100)}\n`).message;
    expect(msg).toContain(`near \`${"b".repeat(40)}...'`);
  });

  it("accepts lists nested 256 deep and rejects 257 without exhausting the stack", () => {
    expect(() => parseXlConfig(`a = ${"[".repeat(256)}${"]".repeat(256)}\n`, "t.cfg")).not.toThrow();
    expect(parseError(`a = ${"[".repeat(257)}${"]".repeat(257)}\n`).message).toBe(
      "t.cfg:1:261: config parsing error near `[': lists nested more than 256 deep",
    );
    expect(parseError(`a = ${"[".repeat(100_000)}\n`).code).toBe(XL_CODES.syntax);
  });
});

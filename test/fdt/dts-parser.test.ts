import { describe, expect, it } from "vitest";
import { SshmError } from "../../src/common/errors.js";
import type { FdtTree } from "../../src/fdt/index.js";
import { findNode, getProp, parseDts } from "../../src/fdt/index.js";

/** Hex of a property's value, or undefined if the node or property is missing. */
function hexOf(t: FdtTree, path: string, prop: string): string | undefined {
  const n = findNode(t, path);
  const p = n && getProp(n, prop);
  return p && Buffer.from(p.value).toString("hex");
}

const ascii = (s: string): string => Buffer.from(s, "latin1").toString("hex");
const V1 = "/dts-v1/;\n";

function error(src: string, files: Record<string, string> = {}): SshmError {
  try {
    parseDts(src, "t.dts", {
      readFile: (f) => {
        const text = files[f];
        if (text === undefined) throw new Error(`ENOENT: no such file, open '${f}'`);
        return text;
      },
    });
  } catch (e) {
    if (e instanceof SshmError) return e;
    throw e;
  }
  throw new Error("expected parseDts to throw");
}

function expectError(src: string, code: string, message: string, files: Record<string, string> = {}): void {
  const e = error(src, files);
  expect(e.message).toBe(message);
  expect(e.code).toBe(code);
}

describe("parseDts: structure", () => {
  it("parses the minimal tree and names the source", () => {
    const t = parseDts("/dts-v1/; / { };", "m.dts");
    expect(t.root.name).toBe("");
    expect(t.root.props).toEqual([]);
    expect(t.source).toBe("m.dts");
  });

  it("accepts repeated /dts-v1/; and reads /memreserve/ entries with expressions", () => {
    const t = parseDts(
      `${V1}/dts-v1/;\n/memreserve/ 0x10000000 0x100000;\n/memreserve/ (1 << 32) (4096 * 2);\n/ { };`,
    );
    expect(t.memreserve).toEqual([
      { address: 0x1000_0000, size: 0x10_0000 },
      { address: 2 ** 32, size: 8192 },
    ]);
  });

  it("builds nested nodes with unit addresses, in source order", () => {
    const t = parseDts(`${V1}/ { a@1 { b@0,1 { }; }; c { }; };`);
    expect(t.root.children.map((c) => c.name)).toEqual(["a@1", "c"]);
    expect(findNode(t, "/a@1/b@0,1")).toBeDefined();
  });

  it("records labels on nodes and properties", () => {
    const t = parseDts(`${V1}/ { l1: l2: n { pl: p = <1>; }; };`);
    const n = findNode(t, "/n")!;
    expect(n.labels).toEqual(["l1", "l2"]);
    expect(n.props[0]?.labels).toEqual(["pl"]);
  });

  it("records where nodes were first and properties last defined", () => {
    const t = parseDts(`${V1}/ {\n\tn {\n\t\tp = <1>;\n\t};\n};\n/ {\n  n { p = <2>; };\n};\n`, "loc.dts");
    const n = findNode(t, "/n")!;
    expect(n.loc).toEqual({ file: "loc.dts", line: 3, column: 2 });
    expect(n.props[0]?.loc).toEqual({ file: "loc.dts", line: 8, column: 7 });
    expect(t.root.loc).toEqual({ file: "loc.dts", line: 2, column: 1 });
  });

  it("ignores a UTF-8 byte-order mark", () => {
    expect(parseDts(`\uFEFF${V1}/ { a; };`).root.props[0]?.name).toBe("a");
  });

  it("merges a node written twice: later values replace in place, new ones are appended", () => {
    const t = parseDts(`${V1}/ { n { a = <1>; b = <2>; x { }; }; };\n/ { n { a = <3>; c = <4>; y { }; }; };`);
    const n = findNode(t, "/n")!;
    expect(n.props.map((p) => p.name)).toEqual(["a", "b", "c"]);
    expect(hexOf(t, "/n", "a")).toBe("00000003");
    expect(n.children.map((c) => c.name)).toEqual(["x", "y"]);
  });

  it("overlays &label and &{/path} at top level, adding labels to the target", () => {
    const t = parseDts(`${V1}/ { n: node { a = <1>; }; };\n&n { b = <2>; };\nm: &{/node} { c = <3>; };`);
    const n = findNode(t, "/node")!;
    expect(n.props.map((p) => p.name)).toEqual(["a", "b", "c"]);
    expect(n.labels).toEqual(["n", "m"]);
  });

  it("deletes properties and nodes by name, by &label and by &{/path}", () => {
    const t = parseDts(
      `${V1}/ { a = <1>; b = <2>; x { }; l: y { }; z { w { }; }; };\n` +
        `/ { /delete-property/ a; /delete-node/ x; };\n/delete-node/ &l;\n/delete-node/ &{/z/w};`,
    );
    expect(t.root.props.map((p) => p.name)).toEqual(["b"]);
    expect(t.root.children.map((c) => c.name)).toEqual(["z"]);
    expect(findNode(t, "/z")!.children).toEqual([]);
  });

  it("revives a deleted property or node in its old position, as dtc does", () => {
    const t = parseDts(
      `${V1}/ { a = <1>; b = <2>; c { x; }; d { }; };\n/ { /delete-property/ a; /delete-node/ c; };\n/ { a = <3>; c { y; }; };`,
    );
    expect(t.root.props.map((p) => p.name)).toEqual(["a", "b"]);
    expect(t.root.children.map((c) => c.name)).toEqual(["c", "d"]);
    expect(findNode(t, "/c")!.props.map((p) => p.name)).toEqual(["y"]);
  });

  it("drops a deleted node's labels, so they can be reused", () => {
    const t = parseDts(`${V1}/ { l: a { }; };\n/delete-node/ &l;\n/ { l: b { }; };`);
    expect(findNode(t, "/b")!.labels).toEqual(["l"]);
  });

  it("accepts /omit-if-no-ref/ and removes such nodes unless referenced", () => {
    const t = parseDts(
      `${V1}/ { r = <&used>; /omit-if-no-ref/ used: u { }; /omit-if-no-ref/ o { }; k: kept { }; };\n/omit-if-no-ref/ &k;\n/ { p = &{/kept}; };`,
    );
    expect(t.root.children.map((c) => c.name)).toEqual(["u", "kept"]);
  });

  it("skips // and /* */ comments anywhere between tokens", () => {
    const t = parseDts(
      `/* head */ /dts-v1/; // v1\n/ { /* a\n multi-line */ a = <1 /* in cells */ 2>; // end\n};`,
    );
    expect(hexOf(t, "/", "a")).toBe("0000000100000002");
  });

  it("follows cpp line markers for positions", () => {
    const e = error(`${V1}# 40 "board.dts"\n/ {\n  a = <1> <2>;\n};`);
    expect(e.message).toBe('board.dts:41:11: syntax error: expected "," or ";" but found "<"');
  });

  it("allows an escaped name that looks like a keyword", () => {
    const t = parseDts(`${V1}/ { \\a-b = <1>; };`);
    expect(t.root.props[0]?.name).toBe("a-b");
  });
});

describe("parseDts: values", () => {
  it("encodes empty, string, string-list, cells, bytes and mixed values", () => {
    const t = parseDts(
      `${V1}/ { e; s = "ab"; l = "a", "bc"; c = <1 0x10 010>; b = [00 1122 ff]; m = "x", <2>, [ab]; };`,
    );
    expect(hexOf(t, "/", "e")).toBe("");
    expect(hexOf(t, "/", "s")).toBe(ascii("ab\0"));
    expect(hexOf(t, "/", "l")).toBe(ascii("a\0bc\0"));
    expect(hexOf(t, "/", "c")).toBe("000000010000001000000008");
    expect(hexOf(t, "/", "b")).toBe("001122ff");
    expect(hexOf(t, "/", "m")).toBe(`${ascii("x\0")}00000002ab`);
  });

  it("decodes string escapes like dtc", () => {
    const t = parseDts(`${V1}/ { s = "\\a\\b\\t\\n\\v\\f\\r\\\\\\"\\'\\x41\\x4\\101\\0q\\q"; u = "é"; };`);
    expect(hexOf(t, "/", "s")).toBe("0708090a0b0c0d5c222741044100717100");
    expect(hexOf(t, "/", "u")).toBe("c3a900");
  });

  it("accepts integer suffixes and character literals in cells", () => {
    const t = parseDts(`${V1}/ { a = <0x1UL 10ULL 7U 07L 'a' '\\n' '\\x41' '\\101' '\\''>; };`);
    expect(hexOf(t, "/", "a")).toBe(
      [
        "00000001",
        "0000000a",
        "00000007",
        "00000007",
        "00000061",
        "0000000a",
        "00000041",
        "00000041",
        "00000027",
      ].join(""),
    );
  });

  it("evaluates every C operator with dtc's unsigned 64-bit semantics", () => {
    const exprs: [string, number][] = [
      ["(5 - 7)", 0xfffffffe],
      ["(2 * 3 + 1)", 7],
      ["(10 / 3)", 3],
      ["(10 % 3)", 1],
      ["(1 << 4)", 16],
      ["(256 >> 4)", 16],
      ["(1 < 2)", 1],
      ["(3 > 4)", 0],
      ["(2 <= 2)", 1],
      ["(3 >= 4)", 0],
      ["(1 == 1)", 1],
      ["(1 != 1)", 0],
      ["(0x12 & 0x1f)", 0x12],
      ["(0x10 | 1)", 0x11],
      ["(5 ^ 1)", 4],
      ["(1 && 2)", 1],
      ["(0 || 0)", 0],
      ["(0 ? 5 : 6)", 6],
      ["(1 ? 2 ? 3 : 4 : 5)", 3],
      ["(~0 >> 60)", 15],
      ["(!0)", 1],
      ["(!7)", 0],
      ["(-(1))", 0xffffffff],
      ["(-1 < 0)", 0], // unsigned comparison
      ["(1 << 64)", 0], // dtc defines over-wide shifts as 0
      ["((1 << 63) >> 63)", 1],
      ["(1 + 2 * 3 << 1 | 1)", 15], // precedence: * before +, + before <<, << before |
      ["(3 * 4 + 2 << 1 | 1 ^ 3 & 6 % 4 - 1 / 1 == 2 != 1 >= 0 <= 1 < 2 > 0 || 0 && 1)", 1],
      ["('a' + 1)", 0x62],
    ];
    const t = parseDts(`${V1}/ { ${exprs.map(([e], i) => `p${i} = <${e}>;`).join(" ")} };`);
    exprs.forEach(([e, v], i) => {
      expect(hexOf(t, "/", `p${i}`), e).toBe(v.toString(16).padStart(8, "0"));
    });
  });

  it("sizes /bits/ elements and sign-extends negative values", () => {
    const t = parseDts(
      `${V1}/ { b8 = /bits/ 8 <1 0xff (-1) (-128)>; b16 = /bits/ 16 <0x101 2>; b32 = /bits/ 32 <3>; b64 = /bits/ 64 <0x100000000 (-1)>; };`,
    );
    expect(hexOf(t, "/", "b8")).toBe("01ffff80");
    expect(hexOf(t, "/", "b16")).toBe("01010002");
    expect(hexOf(t, "/", "b32")).toBe("00000003");
    expect(hexOf(t, "/", "b64")).toBe("0000000100000000ffffffffffffffff");
  });

  it("assigns phandles to referenced nodes like dtc: tree order, skipping explicit ones, appended last", () => {
    const t = parseDts(
      `${V1}/ { x = <&c &n &d &c>; n: a { phandle = <5>; }; b { phandle = <1>; }; c: c { q = <7>; }; d: d { }; };`,
    );
    expect(hexOf(t, "/", "x")).toBe("00000002000000050000000300000002");
    expect(findNode(t, "/c")!.props.map((p) => p.name)).toEqual(["q", "phandle"]);
    expect(hexOf(t, "/c", "phandle")).toBe("00000002");
    expect(hexOf(t, "/d", "phandle")).toBe("00000003");
    expect(hexOf(t, "/b", "phandle")).toBe("00000001");
  });

  it("resolves references written before the label is defined, and &{/path} / &{label/sub} cells", () => {
    const t = parseDts(`${V1}/ { p = <&l &{/later} &{l/sub}>; l: later { sub { }; }; };`);
    expect(hexOf(t, "/", "p")).toBe("000000010000000100000002");
  });

  it("turns &label and &{/path} outside cells into path strings", () => {
    const t = parseDts(`${V1}/ { a { n: b@1 { }; }; };\n/ { s = &n; t = &{/a}, "x", &{/}; };`);
    expect(hexOf(t, "/", "s")).toBe(ascii("/a/b@1\0"));
    expect(hexOf(t, "/", "t")).toBe(ascii("/a\0x\0/\0"));
  });

  it("accepts labels inside and around values", () => {
    const t = parseDts(`${V1}/ { p = v1: <1 v2: 2> v3:, [v4: 00 11], "s" v5: ; };`);
    expect(hexOf(t, "/", "p")).toBe(`00000001000000020011${ascii("s\0")}`);
  });
});

describe("parseDts: /include/", () => {
  it("includes files relative to the including file, nested", () => {
    const files: Record<string, string> = {
      "boards/inc/a.dtsi": '/ { a = "a"; };\n/include/ "b.dtsi"',
      "boards/inc/b.dtsi": "/ { b = <2>; };",
    };
    const t = parseDts(`${V1}/include/ "inc/a.dtsi"\n/ { c; };`, "boards/main.dts", {
      readFile: (f) => files[f] ?? "",
    });
    expect(t.root.props.map((p) => p.name)).toEqual(["a", "b", "c"]);
    expect(t.root.props[1]?.loc?.file).toBe("boards/inc/b.dtsi");
  });

  it("can include a fragment in the middle of a node", () => {
    const t = parseDts(`${V1}/ { /include/ "p.dtsi" z; };`, "t.dts", { readFile: () => "x = <1>; y;" });
    expect(t.root.props.map((p) => p.name)).toEqual(["x", "y", "z"]);
  });

  it("defaults to reading the file system", () => {
    const t = parseDts(
      `${V1}/include/ "../fixtures/included.dtsi"\n`,
      new URL("./fixtures/x.dts", import.meta.url).pathname,
    );
    expect(hexOf(t, "/", "from-include")).toBe("0000002a");
  });
});

describe("parseDts: each rule has its own error, with file:line:column", () => {
  const cases: [string, string, string, string][] = [
    [
      "missing /dts-v1/",
      "/ { };",
      "EDTS_NO_V1",
      't.dts:1:1: missing /dts-v1/; at the start of the file (found "/"); dtc requires it',
    ],
    [
      "C preprocessor #include",
      `${V1}#include <dt-bindings/gpio.h>\n/ { };`,
      "EDTS_CPP",
      't.dts:2:1: #include is a C preprocessor directive: run the file through "cpp -nostdinc -undef -x assembler-with-cpp" first (dtc does not preprocess; use /include/ for a plain include)',
    ],
    [
      "C preprocessor #define",
      `${V1}  #define X 1\n/ { };`,
      "EDTS_CPP",
      't.dts:2:3: #define is a C preprocessor directive: run the file through "cpp -nostdinc -undef -x assembler-with-cpp" first (dtc does not preprocess; use /include/ for a plain include)',
    ],
    ["unterminated string", `${V1}/ { s = "abc; };`, "EDTS_UNTERMINATED", "t.dts:2:9: unterminated string"],
    [
      "unterminated comment",
      `${V1}/ { /* x };`,
      "EDTS_UNTERMINATED",
      "t.dts:2:5: unterminated comment (no closing */)",
    ],
    [
      "unterminated char",
      `${V1}/ { a = <'a>; };`,
      "EDTS_UNTERMINATED",
      "t.dts:2:10: unterminated character literal",
    ],
    ["empty char", `${V1}/ { a = <''>; };`, "EDTS_CHAR", "t.dts:2:10: empty character literal"],
    [
      "long char",
      `${V1}/ { a = <'ab'>; };`,
      "EDTS_CHAR",
      "t.dts:2:10: character literal 'ab' has 1 too many characters",
    ],
    ["bad octal", `${V1}/ { a = <08>; };`, "EDTS_BAD_NUMBER", "t.dts:2:10: bad integer literal '08'"],
    ["bad hex", `${V1}/ { a = <0x>; };`, "EDTS_BAD_NUMBER", "t.dts:2:10: bad integer literal '0x'"],
    [
      "junk after number",
      `${V1}/ { a = <12ab>; };`,
      "EDTS_BAD_NUMBER",
      "t.dts:2:10: bad integer literal '12ab'",
    ],
    [
      "literal over 64 bits",
      `${V1}/ { a = <0x10000000000000000>; };`,
      "EDTS_BAD_NUMBER",
      "t.dts:2:10: integer literal '0x10000000000000000' out of range",
    ],
    [
      "cell over 32 bits",
      `${V1}/ { a = <0x100000000>; };`,
      "EDTS_RANGE",
      "t.dts:2:10: value 0x100000000 out of range for 32-bit array element",
    ],
    [
      "/bits/ 8 overflow",
      `${V1}/ { a = /bits/ 8 <0x1ff>; };`,
      "EDTS_RANGE",
      "t.dts:2:19: value 0x1ff out of range for 8-bit array element",
    ],
    [
      "/bits/ 16 negative overflow",
      `${V1}/ { a = /bits/ 16 <(-0x10001)>; };`,
      "EDTS_RANGE",
      "t.dts:2:20: value 0xfffffffffffeffff out of range for 16-bit array element",
    ],
    [
      "/bits/ width",
      `${V1}/ { a = /bits/ 7 <1>; };`,
      "EDTS_BITS",
      "t.dts:2:16: /bits/ takes 8, 16, 32 or 64 (array element size in bits)",
    ],
    [
      "reference in /bits/ 64",
      `${V1}/ { a = /bits/ 64 <&l>; l: n { }; };`,
      "EDTS_BITS",
      "t.dts:2:20: references are only allowed in arrays with 32-bit elements",
    ],
    ["division by zero", `${V1}/ { a = <(5 / 0)>; };`, "EDTS_DIV_ZERO", "t.dts:2:13: division by zero"],
    ["modulo by zero", `${V1}/ { a = <(5 % (1 - 1))>; };`, "EDTS_DIV_ZERO", "t.dts:2:13: division by zero"],
    [
      "unary minus outside parentheses",
      `${V1}/ { a = <-1>; };`,
      "EDTS_SYNTAX",
      't.dts:2:10: syntax error: expected a number, a character, "(expression)", a &reference or ">" but found "-"',
    ],
    [
      "unknown label in cells",
      `${V1}/ { a = <&nope>; };`,
      "EDTS_UNKNOWN_LABEL",
      "t.dts:2:10: reference to non-existent node or label &nope",
    ],
    [
      "unknown path in a string reference",
      `${V1}/ { a = &{/no/such}; };`,
      "EDTS_UNKNOWN_LABEL",
      "t.dts:2:9: reference to non-existent node or label &{/no/such}",
    ],
    [
      "unknown label in an overlay",
      `${V1}/ { };\n&nope { };`,
      "EDTS_UNKNOWN_LABEL",
      "t.dts:3:1: label or path &nope not found",
    ],
    [
      "unknown label to delete",
      `${V1}/ { };\n/delete-node/ &{/x};`,
      "EDTS_UNKNOWN_LABEL",
      "t.dts:3:15: label or path &{/x} not found",
    ],
    [
      "reference to a deleted node",
      `${V1}/ { a = <&l>; l: n { }; };\n/delete-node/ &l;`,
      "EDTS_UNKNOWN_LABEL",
      "t.dts:2:10: reference to non-existent node or label &l",
    ],
    [
      "duplicate label",
      `${V1}/ { l: a { }; l: b { }; };`,
      "EDTS_DUPLICATE_LABEL",
      "t.dts:2:15: duplicate label 'l' on /b and /a",
    ],
    [
      "duplicate label on a property",
      `${V1}/ { l: p; l: a { }; };`,
      "EDTS_DUPLICATE_LABEL",
      "t.dts:2:11: duplicate label 'l' on /a and /:p",
    ],
    [
      "duplicate property in one node",
      `${V1}/ { a = <1>; a = <2>; };`,
      "EDTS_DUPLICATE",
      't.dts:2:14: duplicate property name "a" in the same node',
    ],
    [
      "duplicate node in one node",
      `${V1}/ { a { }; a { }; };`,
      "EDTS_DUPLICATE",
      't.dts:2:12: duplicate node name "a" in the same node',
    ],
    [
      "property after a subnode",
      `${V1}/ { n { }; p; };`,
      "EDTS_PROP_AFTER_NODE",
      "t.dts:2:12: properties must precede subnodes",
    ],
    [
      "missing semicolon",
      `${V1}/ { a = <1> };`,
      "EDTS_SYNTAX",
      't.dts:2:13: syntax error: expected "," or ";" but found "}"',
    ],
    [
      "missing semicolon after node",
      `${V1}/ { }`,
      "EDTS_SYNTAX",
      't.dts:2:6: syntax error: expected ";" but found end of file',
    ],
    [
      "missing value",
      `${V1}/ { a = ; };`,
      "EDTS_SYNTAX",
      't.dts:2:9: syntax error: expected a value ("string", <cells>, [bytes] or &reference) but found ";"',
    ],
    ["unknown directive", `${V1}/ { /frob/ x; };`, "EDTS_SYNTAX", "t.dts:2:5: unknown directive /frob/"],
    ["stray character", `${V1}/ { a = <1> $; };`, "EDTS_SYNTAX", 't.dts:2:13: unexpected "$"'],
    [
      "odd byte string",
      `${V1}/ { a = [0 1]; };`,
      "EDTS_BAD_BYTES",
      "t.dts:2:10: byte strings are made of pairs of hex digits",
    ],
    [
      "bad byte string",
      `${V1}/ { a = [00 zz]; };`,
      "EDTS_BAD_BYTES",
      't.dts:2:13: unexpected "z" in a byte string [...]',
    ],
    [
      "overlays",
      `${V1}/plugin/;\n/ { };`,
      "EDTS_UNSUPPORTED",
      "t.dts:2:1: /plugin/ (device-tree overlays) is not supported",
    ],
    ["incbin", `${V1}/ { a = /incbin/("x"); };`, "EDTS_UNSUPPORTED", "t.dts:2:9: /incbin/ is not supported"],
    [
      "no root node",
      `${V1}/memreserve/ 0 1;`,
      "EDTS_NO_ROOT",
      "t.dts:2:18: no root node: expected / { ... };",
    ],
    [
      "memreserve after the root",
      `${V1}/ { };\n/memreserve/ 0 1;`,
      "EDTS_SYNTAX",
      't.dts:3:1: syntax error: expected a node (/memreserve/ must come before the root node) but found "/memreserve/"',
    ],
    [
      "memreserve beyond 2^53",
      `${V1}/memreserve/ 0x20000000000000 1;\n/ { };`,
      "EDTS_RANGE",
      "t.dts:2:1: /memreserve/ 0x20000000000000 0x1 reaches 2^53, beyond what sshm represents exactly",
    ],
    [
      "phandle zero",
      `${V1}/ { n { phandle = <0>; }; };`,
      "EDTS_PHANDLE",
      "t.dts:2:9: bad value (0x0) in phandle property",
    ],
    [
      "duplicated phandle",
      `${V1}/ { a { phandle = <1>; }; b { phandle = <1>; }; };`,
      "EDTS_PHANDLE",
      "t.dts:2:31: duplicated phandle 0x1 (seen before at /a)",
    ],
    [
      "phandle of the wrong size",
      `${V1}/ { a { phandle = [01]; }; };`,
      "EDTS_PHANDLE",
      "t.dts:2:9: phandle property has invalid length (1 bytes, expected 4)",
    ],
    [
      "missing include",
      `${V1}/include/ "nope.dtsi"`,
      "EDTS_INCLUDE",
      "t.dts:2:1: cannot read /include/ \"nope.dtsi\" (nope.dtsi): ENOENT: no such file, open 'nope.dtsi'",
    ],
    [
      "include without a name",
      `${V1}/include/ nope`,
      "EDTS_SYNTAX",
      "t.dts:2:11: /include/ must be followed by a file name in quotes",
    ],
  ];
  for (const [name, src, code, message] of cases) {
    it(name, () => expectError(src, code, message));
  }

  it("an error inside an included file names that file", () => {
    expectError(
      `${V1}/include/ "inc.dtsi"`,
      "EDTS_SYNTAX",
      'inc.dtsi:2:4: syntax error: expected "=", ";" or "{" after "a" but found "b"',
      {
        "inc.dtsi": "/ {\n\ta b <1>;\n};",
      },
    );
  });

  it("an include loop stops at a depth limit", () => {
    expectError(
      `${V1}/include/ "self.dtsi"`,
      "EDTS_INCLUDE",
      "self.dtsi:1:1: /include/ nested more than 64 deep (include loop?)",
      {
        "self.dtsi": '/include/ "self.dtsi"',
      },
    );
  });

  it("deep node nesting is refused, not a stack overflow", () => {
    const depth = 201;
    const src = `${V1}/ { ${"n { ".repeat(depth)}${"}; ".repeat(depth)}};`;
    expect(error(src).code).toBe("EDTS_NESTING");
    expect(error(src).message).toBe("t.dts:2:807: nodes nested more than 200 deep");
  });

  it("deep expression nesting is refused, not a stack overflow", () => {
    const src = `${V1}/ { a = <${"(".repeat(300)}1${")".repeat(300)}>; };`;
    expect(error(src).message).toBe("t.dts:2:210: expression nested more than 200 deep");
  });
});

describe("parseDts: C preprocessor detection", () => {
  it("still reads properties whose names look like directives", () => {
    const t = parseDts(`${V1}/ {\n#if = <1>;\n\t#include;\n#define-x;\n};`);
    expect(t.root.props.map((p) => p.name)).toEqual(["#if", "#include", "#define-x"]);
  });

  it('catches #include "file", #endif alone and # include with spaces', () => {
    expect(error(`${V1}#include "board.dtsi"\n/ { };`).code).toBe("EDTS_CPP");
    expect(error(`${V1}/ { };\n#endif\n`).code).toBe("EDTS_CPP");
    expect(error(`${V1}  #  include <x.h>\n/ { };`).message).toMatch(
      /^t\.dts:2:3: #include is a C preprocessor/,
    );
  });
});

import { describe, expect, it } from "vitest";
import {
  formatValue,
  guessForm,
  newNode,
  newTree,
  printDts,
  stringValue,
  u32Cells,
} from "../../src/fdt/index.js";

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "latin1"));

describe("guessForm: dtc's rule for untyped values", () => {
  it.each([
    ["empty", new Uint8Array(0), "empty"],
    ["printable NUL-terminated text", text("abc\0"), "string"],
    ["a string list", text("a\0bc\0"), "string"],
    ["text with C-escapable controls", text("a\tb\n\0"), "string"],
    ["4 bytes that happen to be printable text", u32Cells(0x41424300), "string"],
    ["as many NULs as other bytes", text("ab\0\0"), "string"],
    ["more NULs than other bytes", text("a\0\0\0"), "cells"],
    ["all zero cell", u32Cells(0), "cells"],
    ["text not NUL-terminated, length 4", text("abcd"), "cells"],
    ["non-printable byte, length 8", text("\x01abcdef\0"), "cells"],
    ["non-ASCII byte, length 3", text("\xe9a\0"), "bytes"],
    ["odd length binary", bytes(1, 2, 3), "bytes"],
  ] as const)("%s -> %s", (_name, v, form) => {
    expect(guessForm(v)).toBe(form);
  });
});

describe("formatValue", () => {
  it("prints each form as dtc does", () => {
    expect(formatValue(new Uint8Array(0))).toBe(";");
    expect(formatValue(stringValue("xen,domain"))).toBe(' = "xen,domain";');
    expect(formatValue(stringValue("multiboot,kernel", "multiboot,module"))).toBe(
      ' = "multiboot,kernel", "multiboot,module";',
    );
    expect(formatValue(u32Cells(0, 2, 0x40000000, 0xffffffff))).toBe(" = <0x00 0x02 0x40000000 0xffffffff>;");
    expect(formatValue(bytes(0, 0x11, 0xab))).toBe(" = [00 11 ab];");
  });

  it("escapes quotes, backslashes and controls in strings", () => {
    expect(formatValue(text('q"b\\\x07\x08\t\n\x0b\x0c\r\0'))).toBe(' = "q\\"b\\\\\\a\\b\\t\\n\\v\\f\\r";');
  });

  it("keeps empty strings in a list", () => {
    expect(formatValue(text("ab\0\0"))).toBe(' = "ab", "";');
  });
});

describe("printDts", () => {
  it("prints header, memreserve, tab-indented nodes, labels and blank lines like dtc", () => {
    const t = newTree();
    t.memreserve.push({ address: 0x1000_0000, size: 0x10_0000 });
    t.root.props.push({ name: "#address-cells", value: u32Cells(1), labels: [] });
    const a = newNode("a@1");
    a.labels.push("la", "lb");
    a.props.push({ name: "reg", value: u32Cells(1), labels: ["lr"] });
    a.props.push({ name: "flag", value: new Uint8Array(0), labels: [] });
    a.children.push(newNode("inner"));
    t.root.children.push(a, newNode("b"));
    expect(printDts(t)).toBe(
      [
        "/dts-v1/;",
        "",
        "/memreserve/\t0x0000000010000000 0x0000000000100000;",
        "/ {",
        "\t#address-cells = <0x01>;",
        "",
        "\tla: lb: a@1 {",
        "\t\tlr: reg = <0x01>;",
        "\t\tflag;",
        "",
        "\t\tinner {",
        "\t\t};",
        "\t};",
        "",
        "\tb {",
        "\t};",
        "};",
        "",
      ].join("\n"),
    );
  });

  it("attaches root labels through a &{/} reference, which dtc's grammar allows", () => {
    const t = newTree();
    t.root.labels.push("top");
    expect(printDts(t)).toBe("/dts-v1/;\n\n/ {\n};\n\ntop: &{/} {\n};\n");
  });
});

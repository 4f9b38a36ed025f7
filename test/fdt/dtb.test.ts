import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SshmError } from "../../src/common/errors.js";
import type { FdtNode } from "../../src/fdt/index.js";
import {
  decodeDtb,
  encodeDtb,
  getChild,
  getProp,
  newNode,
  newTree,
  propCells,
  propStrings,
  stringValue,
  u32Cells,
} from "../../src/fdt/index.js";
import { rawDtb, shape, TOK, u32 } from "./helpers.js";

const { BEGIN, END_NODE, PROP, NOP, END } = TOK;

function sample() {
  const t = newTree("s.dtb");
  t.bootCpuid = 3;
  t.memreserve.push({ address: 0x4000_0000, size: 0x10_0000 });
  const root = t.root;
  root.props.push({ name: "#address-cells", value: u32Cells(2), labels: [] });
  root.props.push({ name: "#size-cells", value: u32Cells(1), labels: [] });
  root.props.push({ name: "compatible", value: stringValue("xen,a", "xen,b"), labels: [] });
  const mem = newNode("memory@40000000");
  mem.props.push({ name: "reg", value: u32Cells(0, 0x4000_0000, 0x8000_0000), labels: [] });
  mem.props.push({ name: "odd", value: Uint8Array.of(1, 2, 3), labels: [] });
  mem.props.push({ name: "empty", value: new Uint8Array(0), labels: [] });
  root.children.push(mem, newNode("chosen"));
  return t;
}

/** Expect decodeDtb to throw exactly this SshmError. */
function rejects(bytes: Uint8Array, code: string, message: string): void {
  let err: unknown;
  try {
    decodeDtb(bytes, "t.dtb");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SshmError);
  expect((err as SshmError).message).toBe(message);
  expect((err as SshmError).code).toBe(code);
}

describe("encodeDtb / decodeDtb", () => {
  it("round-trips a tree with memreserve, boot cpu, strings, cells, bytes and empty values", () => {
    const t = sample();
    const back = decodeDtb(encodeDtb(t), "x.dtb");
    expect(shape(back)).toEqual(shape(t));
    expect(back.source).toBe("x.dtb");
    const mem = getChild(back.root, "memory@40000000");
    expect(mem && propCells(getProp(mem, "reg")!)).toEqual([0, 0x4000_0000, 0x8000_0000]);
    expect(propStrings(getProp(back.root, "compatible")!)).toEqual(["xen,a", "xen,b"]);
  });

  it("writes a v17 header laid out like dtc: rsvmap at 0x28, struct after it, strings last", () => {
    const b = encodeDtb(sample());
    const dv = new DataView(b.buffer);
    expect(dv.getUint32(0)).toBe(0xd00dfeed);
    expect(dv.getUint32(4)).toBe(b.length); // totalsize
    expect(dv.getUint32(16)).toBe(0x28); // off_mem_rsvmap
    expect(dv.getUint32(8)).toBe(0x28 + 2 * 16); // off_dt_struct after one entry + terminator
    expect(dv.getUint32(20)).toBe(17);
    expect(dv.getUint32(24)).toBe(16);
    expect(dv.getUint32(28)).toBe(3); // boot_cpuid_phys
    expect(dv.getUint32(12)).toBe(dv.getUint32(8) + dv.getUint32(36)); // strings follow struct
    expect(dv.getUint32(12) + dv.getUint32(32)).toBe(b.length);
  });

  it("shares a property name that is a suffix of one already in the strings block, like dtc", () => {
    const t = newTree();
    t.root.props.push({ name: "#size-cells", value: u32Cells(1), labels: [] });
    t.root.props.push({ name: "size-cells", value: u32Cells(1), labels: [] });
    t.root.props.push({ name: "reg", value: u32Cells(1), labels: [] });
    const b = encodeDtb(t);
    const dv = new DataView(b.buffer);
    const strings = Buffer.from(b.subarray(dv.getUint32(12))).toString("latin1");
    expect(strings).toBe("#size-cells\0reg\0");
    // The second FDT_PROP's nameoff (struct: BEGIN, "" padded, PROP len nameoff value, PROP len nameoff)
    expect(dv.getUint32(dv.getUint32(8) + 8 + 16 + 8)).toBe(1);
  });

  it("decodes a v16 blob (no size_dt_struct), skips FDT_NOP and tolerates trailing bytes", () => {
    const b = rawDtb({
      v16: true,
      strings: "a\0",
      struct: [
        NOP,
        BEGIN,
        { name: "" },
        NOP,
        PROP,
        4,
        0,
        u32(7),
        BEGIN,
        { name: "n@1" },
        END_NODE,
        END_NODE,
        END,
      ],
    });
    const padded = new Uint8Array(b.length + 8);
    padded.set(b);
    const t = decodeDtb(padded);
    expect(t.root.props.map((p) => [p.name, Buffer.from(p.value).toString("hex")])).toEqual([
      ["a", "00000007"],
    ]);
    expect(t.root.children.map((c) => c.name)).toEqual(["n@1"]);
  });

  it("copies values so the tree does not alias the input", () => {
    const b = encodeDtb(sample());
    const t = decodeDtb(b);
    b.fill(0);
    expect(propCells(getProp(t.root, "#address-cells")!)).toEqual([2]);
  });

  it("refuses to encode what a DTB cannot hold", () => {
    const t = newTree();
    t.root.children.push(newNode("a\0b"));
    expect(() => encodeDtb(t)).toThrow('node /a\u0000b: node name "a\\u0000b" contains a NUL byte');
    const t2 = newTree();
    t2.root.children.push(newNode(""));
    expect(() => encodeDtb(t2)).toThrow("node /: node with an empty name");
    const t3 = newTree();
    t3.bootCpuid = 2 ** 32;
    expect(() => encodeDtb(t3)).toThrow("boot cpuid 4294967296 is not an integer in [0, 0xffffffff]");
    const t4 = newTree();
    t4.memreserve.push({ address: 1.5, size: 1 });
    expect(() => encodeDtb(t4)).toThrow("memreserve address 1.5 is not an integer in [0, 2^53-1]");
  });

  it("encodes any generated tree so that it decodes to the same tree", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9,._+-]{0,8}(@[0-9a-f]{1,4})?$/);
    const prop = fc.record({
      name: fc.stringMatching(/^[a-z#][a-z0-9,._+-]{0,10}$/),
      value: fc.uint8Array({ maxLength: 12 }),
    });
    interface Gen {
      name: string;
      props: { name: string; value: Uint8Array }[];
      children: Gen[];
    }
    const nodeAt = (depth: number): fc.Arbitrary<Gen> =>
      fc.record({
        name,
        props: fc.uniqueArray(prop, { selector: (p) => p.name, maxLength: 4 }),
        children:
          depth === 0
            ? fc.constant([])
            : fc.uniqueArray(nodeAt(depth - 1), { selector: (n) => n.name, maxLength: 3 }),
      });
    const node = nodeAt(3);
    fc.assert(
      fc.property(node, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }), (n, rsv) => {
        const t = newTree();
        const toNode = (x: Gen): FdtNode => {
          const out = newNode(x.name);
          out.props = x.props.map((p) => ({ name: p.name, value: p.value, labels: [] }));
          out.children = x.children.map(toNode);
          return out;
        };
        const r = toNode(n);
        t.root.props = r.props;
        t.root.children = r.children;
        t.memreserve = rsv.map(([address, size]) => ({ address, size }));
        const back = decodeDtb(encodeDtb(t));
        expect(shape(back)).toEqual(shape(t));
        // and encoding is deterministic and stable
        expect(encodeDtb(back)).toEqual(encodeDtb(t));
      }),
      { numRuns: 200 },
    );
  });
});

describe("decodeDtb rejects a corrupt blob with the offset and the rule", () => {
  const good = () => rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, END] });
  // Layout of good(): header 0x00-0x27, rsvmap 0x28 (terminator only), struct 0x38, 0x10 bytes.

  it("bad magic", () => {
    const b = good();
    new DataView(b.buffer).setUint32(0, 0x12345678);
    rejects(
      b,
      "EDTB_BAD_MAGIC",
      "t.dtb: byte offset 0x0: bad magic 0x12345678 (a DTB starts with 0xd00dfeed)",
    );
  });
  it("too short for the magic", () => {
    rejects(
      Uint8Array.of(0xd0, 0x0d),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x0: blob is 2 bytes, too short for a header",
    );
  });
  it("ends inside the header", () => {
    rejects(
      good().subarray(0, 20),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x14: blob ends inside the 36-byte header",
    );
  });
  it("ends inside a v17 header (36..39 bytes)", () => {
    rejects(
      good().subarray(0, 38),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x26: blob ends inside the 40-byte v17 header",
    );
  });
  it("version older than 16", () => {
    rejects(
      rawDtb({ version: 15, lastComp: 2, struct: [] }),
      "EDTB_VERSION",
      "t.dtb: byte offset 0x14: version 15 is older than 16, the oldest supported",
    );
  });
  it("last_comp_version newer than 17", () => {
    rejects(
      rawDtb({ version: 18, lastComp: 18, struct: [] }),
      "EDTB_VERSION",
      "t.dtb: byte offset 0x18: last_comp_version 18 is newer than 17, the newest understood",
    );
  });
  it("last_comp_version above version", () => {
    rejects(
      rawDtb({ version: 16, lastComp: 17, struct: [], v16: true }),
      "EDTB_VERSION",
      "t.dtb: byte offset 0x18: last_comp_version 17 is greater than version 16",
    );
  });
  it("blob shorter than totalsize", () => {
    rejects(
      good().subarray(0, 0x40),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x40: blob is 0x40 bytes but its header says totalsize 0x48",
    );
  });
  it("totalsize smaller than the header", () => {
    rejects(
      rawDtb({ struct: [], patch: { 4: 0x10 } }),
      "EDTB_OFFSET",
      "t.dtb: byte offset 0x4: totalsize 0x10 is smaller than the header",
    );
  });
  it("memory reservation block overlapping the header", () => {
    rejects(
      rawDtb({ struct: [], patch: { 16: 0x20 } }),
      "EDTB_OFFSET",
      "t.dtb: byte offset 0x10: memory reservation block offset 0x20 overlaps the header",
    );
  });
  it("memory reservation block not 8-byte aligned", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, END], patch: { 16: 0x2c } }),
      "EDTB_ALIGN",
      "t.dtb: byte offset 0x10: off_mem_rsvmap 0x2c is not 8-byte aligned",
    );
  });
  it("structure block past totalsize", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, END], patch: { 36: 0x100 } }),
      "EDTB_OFFSET",
      "t.dtb: byte offset 0x8: structure block [0x38, 0x138) extends past totalsize 0x48",
    );
  });
  it("structure block not 4-byte aligned", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, END], patch: { 8: 0x39, 36: 4 } }),
      "EDTB_ALIGN",
      "t.dtb: byte offset 0x8: off_dt_struct 0x39 is not 4-byte aligned",
    );
  });
  it("structure block size not a multiple of 4", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, END], patch: { 36: 0xe } }),
      "EDTB_ALIGN",
      "t.dtb: byte offset 0x24: size_dt_struct 0xe is not a multiple of 4",
    );
  });
  it("strings block past totalsize", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, END], patch: { 32: 0x20 } }),
      "EDTB_OFFSET",
      "t.dtb: byte offset 0xc: strings block [0x48, 0x68) extends past totalsize 0x48",
    );
  });
  it("memory reservation block without its (0, 0) terminator", () => {
    rejects(
      rawDtb({ rsv: [[0x1000n, 0x1000n]], struct: [], patch: { 8: 0x38, 12: 0x38 } }),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x38: memory reservation block has no terminating (0, 0) entry",
    );
  });
  it("memory reservation at or above 2^53", () => {
    rejects(
      rawDtb({
        rsv: [
          [1n << 53n, 0x1000n],
          [0n, 0n],
        ],
        struct: [BEGIN, { name: "" }, END_NODE, END],
      }),
      "EDTB_RANGE",
      "t.dtb: byte offset 0x28: memory reservation 0x20000000000000 size 0x1000 reaches 2^53, beyond what sshm represents exactly",
    );
  });
  it("structure block without FDT_END", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE] }),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x44: structure block ends without an FDT_END token",
    );
  });
  it("unknown token", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, 7, END_NODE, END] }),
      "EDTB_TOKEN",
      "t.dtb: byte offset 0x40: unknown structure token 0x7",
    );
  });
  it("node name running off the structure block", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { bytes: new TextEncoder().encode("abcd") }] }),
      "EDTB_STRING",
      "t.dtb: byte offset 0x3c: node name is not NUL-terminated within the structure block",
    );
  });
  it("root node with a name", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "r" }, END_NODE, END] }),
      "EDTB_NAME",
      't.dtb: byte offset 0x3c: root node has name "r" (it must be empty)',
    );
  });
  it("child node with an empty name", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, BEGIN, { name: "" }, END_NODE, END_NODE, END] }),
      "EDTB_NAME",
      "t.dtb: byte offset 0x44: node with an empty name",
    );
  });
  it("two nodes with the same name", () => {
    rejects(
      rawDtb({
        struct: [
          BEGIN,
          { name: "" },
          BEGIN,
          { name: "a" },
          END_NODE,
          BEGIN,
          { name: "a" },
          END_NODE,
          END_NODE,
          END,
        ],
      }),
      "EDTB_DUPLICATE",
      't.dtb: byte offset 0x50: duplicate node name "a"',
    );
  });
  it("second top-level node", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, END_NODE, BEGIN, { name: "" }, END_NODE, END] }),
      "EDTB_NESTING",
      "t.dtb: byte offset 0x44: second top-level node after the root",
    );
  });
  it("FDT_END_NODE without a node", () => {
    rejects(
      rawDtb({ struct: [END_NODE, END] }),
      "EDTB_NESTING",
      "t.dtb: byte offset 0x38: FDT_END_NODE without a matching FDT_BEGIN_NODE",
    );
  });
  it("FDT_END with a node still open", () => {
    rejects(
      rawDtb({ struct: [BEGIN, { name: "" }, BEGIN, { name: "a" }, END_NODE, END] }),
      "EDTB_NESTING",
      "t.dtb: byte offset 0x4c: FDT_END with 1 node(s) still open",
    );
  });
  it("FDT_END before any node", () => {
    rejects(
      rawDtb({ struct: [NOP, END] }),
      "EDTB_NESTING",
      "t.dtb: byte offset 0x3c: FDT_END before any node",
    );
  });
  it("property outside any node", () => {
    rejects(
      rawDtb({ strings: "a\0", struct: [PROP, 0, 0, BEGIN, { name: "" }, END_NODE, END] }),
      "EDTB_NESTING",
      "t.dtb: byte offset 0x38: FDT_PROP outside any node",
    );
  });
  it("property after a child node", () => {
    rejects(
      rawDtb({
        strings: "a\0",
        struct: [BEGIN, { name: "" }, BEGIN, { name: "c" }, END_NODE, PROP, 0, 0, END_NODE, END],
      }),
      "EDTB_NESTING",
      "t.dtb: byte offset 0x4c: property after a child node (properties must come first)",
    );
  });
  it("property header cut off", () => {
    rejects(
      rawDtb({ strings: "a\0", struct: [BEGIN, { name: "" }, PROP, 0] }),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x44: FDT_PROP header runs past the structure block",
    );
  });
  it("property value longer than the structure block", () => {
    rejects(
      rawDtb({ strings: "a\0", struct: [BEGIN, { name: "" }, PROP, 0x100, 0, END_NODE, END] }),
      "EDTB_TRUNCATED",
      "t.dtb: byte offset 0x4c: property value of 0x100 bytes runs past the structure block",
    );
  });
  it("property name offset outside the strings block", () => {
    rejects(
      rawDtb({ strings: "a\0", struct: [BEGIN, { name: "" }, PROP, 0, 9, END_NODE, END] }),
      "EDTB_STRING",
      "t.dtb: byte offset 0x48: property name offset 0x9 is outside the strings block",
    );
  });
  it("property name not NUL-terminated in the strings block", () => {
    rejects(
      rawDtb({ strings: "ab", struct: [BEGIN, { name: "" }, PROP, 0, 0, END_NODE, END] }),
      "EDTB_STRING",
      "t.dtb: byte offset 0x54: property name is not NUL-terminated within the strings block",
    );
  });
  it("property with an empty name", () => {
    rejects(
      rawDtb({ strings: "\0", struct: [BEGIN, { name: "" }, PROP, 0, 0, END_NODE, END] }),
      "EDTB_NAME",
      "t.dtb: byte offset 0x54: property with an empty name",
    );
  });
  it("two properties with the same name", () => {
    rejects(
      rawDtb({ strings: "a\0", struct: [BEGIN, { name: "" }, PROP, 0, 0, PROP, 0, 0, END_NODE, END] }),
      "EDTB_DUPLICATE",
      't.dtb: byte offset 0x4c: duplicate property "a"',
    );
  });
  it("names the default file when none is given", () => {
    expect(() => decodeDtb(new Uint8Array(8))).toThrow(
      "<dtb>: byte offset 0x0: bad magic 0x0 (a DTB starts with 0xd00dfeed)",
    );
  });
});

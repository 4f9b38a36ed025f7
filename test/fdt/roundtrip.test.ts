import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FdtNode, FdtTree } from "../../src/fdt/index.js";
import {
  decodeDtb,
  encodeDtb,
  loadDeviceTree,
  newNode,
  newTree,
  parseDts,
  printDts,
} from "../../src/fdt/index.js";
import { shape } from "./helpers.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SAMPLES = ["xen-dom0less.dts", "features.dts", "with-include.dts"];

describe("round trips on the samples", () => {
  for (const name of SAMPLES) {
    const file = fixture(name);
    it(`${name}: parseDts -> encodeDtb -> decodeDtb gives the same tree`, () => {
      const t = parseDts(readFileSync(file, "utf8"), file);
      expect(shape(decodeDtb(encodeDtb(t)))).toEqual(shape(t));
    });
    it(`${name}: printDts -> parseDts gives the same tree, labels included`, () => {
      const t = parseDts(readFileSync(file, "utf8"), file);
      expect(shape(parseDts(printDts(t), "printed.dts"), true)).toEqual(shape(t, true));
    });
  }
});

describe("loadDeviceTree", () => {
  it("picks DTB by its magic and DTS otherwise, from bytes or text", () => {
    const file = fixture("xen-dom0less.dts");
    const text = readFileSync(file, "utf8");
    const fromText = loadDeviceTree(text, file);
    const fromDtb = loadDeviceTree(encodeDtb(fromText), "x.dtb");
    const fromBytes = loadDeviceTree(new TextEncoder().encode(text), file);
    expect(shape(fromDtb)).toEqual(shape(fromText));
    expect(shape(fromBytes, true)).toEqual(shape(fromText, true));
    expect(fromDtb.source).toBe("x.dtb");
  });

  it("reads bytes without the magic as DTS, with DTS errors", () => {
    expect(() => loadDeviceTree(new TextEncoder().encode("hello"), "bad.bin")).toThrow(
      'bad.bin:1:1: missing /dts-v1/; at the start of the file (found "hello"); dtc requires it',
    );
  });
});

// ---- generated trees: printDts and parseDts are inverse ----

interface Gen {
  name: string;
  label: boolean;
  props: { name: string; value: Uint8Array; label: boolean }[];
  children: Gen[];
}

const nodeName = fc.stringMatching(/^[a-z][a-z0-9,._+-]{0,6}(@[0-9a-f]{1,4})?$/);
const propName = fc
  .stringMatching(/^[a-z#][a-z0-9,._+?-]{0,8}$/)
  .filter((n) => n !== "phandle" && n !== "linux,phandle");
const value = fc.oneof(
  fc.uint8Array({ maxLength: 10 }),
  fc
    .array(fc.stringMatching(/^[ -~\t\n]{0,6}$/), { minLength: 1, maxLength: 3 })
    .map((ss) => new TextEncoder().encode(ss.map((s) => `${s}\0`).join(""))),
  fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 4 }).map((cs) => {
    const b = new Uint8Array(cs.length * 4);
    cs.forEach((c, i) => {
      new DataView(b.buffer).setUint32(i * 4, c);
    });
    return b;
  }),
);
const genNode = (depth: number): fc.Arbitrary<Gen> =>
  fc.record({
    name: nodeName,
    label: fc.boolean(),
    props: fc.uniqueArray(fc.record({ name: propName, value, label: fc.boolean() }), {
      selector: (p) => p.name,
      maxLength: 4,
    }),
    children:
      depth === 0
        ? fc.constant([])
        : fc.uniqueArray(genNode(depth - 1), { selector: (n) => n.name, maxLength: 3 }),
  });

function build(g: Gen, counter: { n: number }, isRoot: boolean): FdtNode {
  const n = newNode(isRoot ? "" : g.name);
  if (g.label) n.labels.push(`l${counter.n++}`);
  n.props = g.props.map((p) => ({
    name: p.name,
    value: p.value,
    labels: p.label ? [`p${counter.n++}`] : [],
  }));
  n.children = g.children.map((c) => build(c, counter, false));
  return n;
}

describe("generated trees", () => {
  it("printDts -> parseDts and encodeDtb -> decodeDtb reproduce any tree", () => {
    fc.assert(
      fc.property(genNode(3), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 2 }), (g, rsv) => {
        const t: FdtTree = newTree();
        t.root = build(g, { n: 0 }, true);
        t.memreserve = rsv.map(([address, size]) => ({ address, size }));
        expect(shape(parseDts(printDts(t), "gen.dts"), true)).toEqual(shape(t, true));
        expect(shape(decodeDtb(encodeDtb(t)))).toEqual(shape(t));
      }),
      { numRuns: 300 },
    );
  });
});

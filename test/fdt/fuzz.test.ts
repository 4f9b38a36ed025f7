/**
 * Fuzzing: whatever bytes or text come in, the decoders return a tree or throw SshmError, never
 * another exception and never hang; and whatever they accept survives a re-encode.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SshmError } from "../../src/common/errors.js";
import type { FdtTree } from "../../src/fdt/index.js";
import { decodeDtb, encodeDtb, parseDts, printDts } from "../../src/fdt/index.js";
import { shape } from "./helpers.js";

const fixtureDir = fileURLToPath(new URL("./fixtures/", import.meta.url));
const read = (rel: string): string => readFileSync(`${fixtureDir}${rel}`, "utf8");
const SOURCES = ["xen-dom0less.dts", "features.dts", "with-include.dts"].map(read);
const INCLUDES: Record<string, string> = {
  "fz/inc/soc.dtsi": read("inc/soc.dtsi"),
  "fz/inc/uart.dtsi": read("inc/uart.dtsi"),
};
const readFile = (f: string): string => {
  const t = INCLUDES[f];
  if (t === undefined) throw new Error(`ENOENT: ${f}`);
  return t;
};
const SEEDS = SOURCES.map((s) => encodeDtb(parseDts(s, "fz/seed.dts", { readFile })));

/** Run `f`; an SshmError is a valid outcome, anything else fails the property. */
function resultOrSshm<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof SshmError) return undefined;
    throw e;
  }
}

function checkDtb(bytes: Uint8Array): void {
  const t = resultOrSshm(() => decodeDtb(bytes, "fuzz.dtb"));
  if (t) expect(shape(decodeDtb(encodeDtb(t)))).toEqual(shape(t));
}

function checkDts(text: string): void {
  const t: FdtTree | undefined = resultOrSshm(() => parseDts(text, "fz/fuzz.dts", { readFile }));
  if (!t) return;
  expect(shape(decodeDtb(encodeDtb(t)))).toEqual(shape(t));
  expect(shape(parseDts(printDts(t), "printed.dts"), true)).toEqual(shape(t, true));
}

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set32"; at: number; value: number }
  | { op: "truncate"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({
    op: fc.constant("set32" as const),
    at: fc.nat(),
    // small values hit plausible offsets, sizes and tokens; large ones hit overflow paths
    value: fc.oneof(fc.nat({ max: 0x200 }), fc.nat({ max: 0xffffffff }), fc.constantFrom(1, 2, 3, 4, 9)),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
);

function mutate(seed: Uint8Array, ms: Mutation[], headerOnly: boolean): Uint8Array {
  let b: Uint8Array = seed.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const span = headerOnly ? Math.min(40, b.length) : b.length;
    const at = m.at % span;
    if (m.op === "flip") b[at] = (b[at] ?? 0) ^ (1 << m.bit);
    else if (m.op === "set32") {
      const a = headerOnly ? at & ~3 : at;
      if (a + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(a, m.value);
    } else b = b.slice(0, at);
  }
  return b;
}

describe("fuzzing decodeDtb", () => {
  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => checkDtb(b)),
      { numRuns: 1000 },
    );
  });

  it("random bytes behind a valid magic", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (rest) => {
        checkDtb(Uint8Array.from([0xd0, 0x0d, 0xfe, 0xed, ...rest]));
      }),
      { numRuns: 1000 },
    );
  });

  it("mutated real DTBs: bit flips, overwritten words, truncation", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (i, ms) => {
          checkDtb(mutate(SEEDS[i]!, ms, false));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("mutated headers: random offsets and sizes", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (i, ms) => {
          checkDtb(mutate(SEEDS[i]!, ms, true));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

const DTS_PIECES = [
  "/dts-v1/;",
  "/ {",
  "};",
  "{",
  "}",
  ";",
  "=",
  "<",
  ">",
  "[",
  "]",
  "(",
  ")",
  ",",
  '"s"',
  '"a\\"',
  "'c'",
  "'",
  "0x10",
  "010",
  "08",
  "12",
  "a",
  "n@1",
  "#address-cells",
  "lbl:",
  "&lbl",
  "&{/n@1}",
  "&{/}",
  "/bits/ 8",
  "/bits/ 16",
  "/delete-node/",
  "/delete-property/",
  "/omit-if-no-ref/",
  "/memreserve/",
  "/include/",
  '"inc/soc.dtsi"',
  "/incbin/",
  "+",
  "-",
  "*",
  "/",
  "%",
  "<<",
  ">>",
  "&&",
  "||",
  "?",
  ":",
  "!",
  "~",
  "//",
  "/*",
  "*/",
  "\n",
  "#include",
  '# 1 "x"',
  "\\",
  "$",
];

describe("fuzzing parseDts", () => {
  it("random token soup", () => {
    const soup = fc
      .array(fc.constantFrom(...DTS_PIECES), { maxLength: 40 })
      .chain((ps) => fc.constantFrom(ps.join(" "), ps.join(""), `/dts-v1/;\n/ { ${ps.join(" ")} };`));
    fc.assert(
      fc.property(soup, (text) => checkDts(text)),
      { numRuns: 1500 },
    );
  });

  it("random text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "binary" }), (text) => checkDts(text)),
      { numRuns: 300 },
    );
  });

  it("mutated real sources: insertions, deletions, duplications, truncation", () => {
    const edit = fc.record({
      kind: fc.constantFrom("insert", "delete", "dup", "truncate"),
      at: fc.nat(),
      len: fc.nat({ max: 40 }),
      piece: fc.constantFrom(...DTS_PIECES),
    });
    fc.assert(
      fc.property(
        fc.nat({ max: SOURCES.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (i, edits) => {
          let s = SOURCES[i]!;
          for (const e of edits) {
            const at = e.at % (s.length + 1);
            if (e.kind === "insert") s = s.slice(0, at) + e.piece + s.slice(at);
            else if (e.kind === "delete") s = s.slice(0, at) + s.slice(at + e.len);
            else if (e.kind === "dup")
              s = s.slice(0, at + e.len) + s.slice(at, at + e.len) + s.slice(at + e.len);
            else s = s.slice(0, at);
          }
          checkDts(s);
        },
      ),
      { numRuns: 800 },
    );
  });
});

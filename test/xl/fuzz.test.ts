/**
 * Fuzzing: random and mutated config text and SSHM_SPEC strings must give either a result or an
 * SshmError. Any other exception fails the property, and so does a hang (the test timeout).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/errors.js";
import { loadXlDomain, parseSshmSpecString, parseXlConfig, SSHM_PAGE_SIZE } from "../../src/xl/index.js";

/** Run f; true if it returned, false if it threw an SshmError; rethrow anything else. */
function resultOrSshmError(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (isSshmError(e)) {
      // The error must name a place, and it must not be an internal message.
      expect(e.message).toMatch(/^[^:]+:\d+:\d+: /);
      expect(e.code).toMatch(/^E[A-Z_]+$/);
      return false;
    }
    throw e;
  }
}

const CONFIG_CHARS = [
  ..."abcnmez_019xf",
  " ",
  "\t",
  "\n",
  "\r",
  "=",
  "+",
  ",",
  "[",
  "]",
  ";",
  "#",
  '"',
  "'",
  "\\",
  "-",
  ".",
  "(",
  "Z",
  "\x00",
  "é",
];

const SPEC_CHARS = [..."idbegnszoftrlpwchay_ARMx0123456789ABCDEF", " ", "\t", "=", ",", "-", "\\", '"'];

const EXAMPLES = ["vm1.cfg", "vm2.cfg", "vm3.cfg"].map((f) =>
  readFileSync(fileURLToPath(new URL(`../../examples/xl/${f}`, import.meta.url)), "utf8"),
);

/** A random edit: delete, insert or replace a short run of characters. */
const edit = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 4 }),
  ins: fc.string({ unit: fc.constantFrom(...CONFIG_CHARS), maxLength: 4 }),
});

function applyEdits(text: string, edits: readonly { at: number; del: number; ins: string }[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % (t.length + 1);
    t = t.slice(0, at) + e.ins + t.slice(at + e.del);
  }
  return t;
}

describe("xl fuzzing", () => {
  it("random config text: a result or an SshmError", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...CONFIG_CHARS), maxLength: 200 }), (text) => {
        resultOrSshmError(() => parseXlConfig(text, "f.cfg"));
        resultOrSshmError(() => loadXlDomain(text, "f.cfg"));
      }),
      { numRuns: 1500 },
    );
  });

  it("arbitrary unicode text: a result or an SshmError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (text) => {
        resultOrSshmError(() => loadXlDomain(text, "f.cfg"));
      }),
      { numRuns: 500 },
    );
  });

  it("mutated example configs: a result or an SshmError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EXAMPLES),
        fc.array(edit, { minLength: 1, maxLength: 5 }),
        (text, edits) => {
          resultOrSshmError(() => loadXlDomain(applyEdits(text, edits), "m.cfg"));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("random SSHM_SPEC strings: a result that keeps every rule, or an SshmError", () => {
    const pair = fc
      .tuple(
        fc.constantFrom("id", "begin", "size", "offset", "role", "prot", "cache_policy", "x", ""),
        fc.oneof(
          fc.constantFrom(
            "A",
            "ID_1",
            "owner",
            "borrower",
            "rw",
            "ro",
            "ARM_normal",
            "x86_normal",
            "0",
            "0x1000",
          ),
          fc.nat({ max: 0x3000 }).map((n) => `0x${(n * 0x800).toString(16)}`),
          fc.string({ unit: fc.constantFrom(...SPEC_CHARS), maxLength: 8 }),
        ),
        fc.constantFrom("=", " = ", "=", ""),
      )
      .map(([k, v, eq]) => `${k}${eq}${v}`);
    // Mostly specs built from the three mandatory pairs plus random extra pairs, in random order,
    // so that the accepting path is reached as well as every rejection.
    const near = fc
      .tuple(
        fc.nat({ max: 0x3000 }).map((n) => `id=I${n}`),
        fc.nat({ max: 0x3000 }).map((n) => `begin=0x${(n * 0x800).toString(16)}`),
        fc.nat({ max: 0x30 }).map((n) => `size=${n * 0x1000}`),
        fc.array(pair, { maxLength: 3 }),
        fc.constantFrom(",", " ,", ", ", ",\t"),
      )
      .chain(([id, begin, size, extra, sep]) =>
        fc.shuffledSubarray([id, begin, size, ...extra], { minLength: 2 }).map((ps) => ps.join(sep)),
      );
    const spec = fc.oneof(
      near,
      fc
        .tuple(fc.array(pair, { maxLength: 8 }), fc.constantFrom(",", " ,", ", ", ",,"))
        .map(([ps, sep]) => ps.join(sep)),
      fc.string({ unit: fc.constantFrom(...SPEC_CHARS), maxLength: 80 }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(spec, (text) => {
        let s: ReturnType<typeof parseSshmSpecString> | undefined;
        const ok = resultOrSshmError(() => {
          s = parseSshmSpecString(text, "s");
        });
        if (ok && s) {
          accepted++;
          expect(s.id).toMatch(/^[_a-zA-Z0-9]{1,128}$/);
          expect(s.begin % SSHM_PAGE_SIZE).toBe(0);
          expect(s.size % SSHM_PAGE_SIZE).toBe(0);
          expect(s.offset % SSHM_PAGE_SIZE).toBe(0);
          expect(s.size).toBeGreaterThan(0);
          expect(s.end).toBe(s.begin + s.size);
          if (s.role === "owner") expect(s.offsetGiven).toBe(false);
          if (s.role === "borrower") expect(s.cachePolicyGiven).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
    // The generator must reach the accepting path too, or the invariants above test nothing.
    expect(accepted).toBeGreaterThan(0);
  });

  it("well-formed SSHM_SPECs round-trip through a config file", () => {
    const page = fc.nat({ max: 0xfffff }).map((n) => n * SSHM_PAGE_SIZE);
    const blank = fc.constantFrom("", " ", "  ", "\\t");
    const specArb = fc.record({
      id: fc.string({ unit: fc.constantFrom(..."aZ09_"), minLength: 1, maxLength: 128 }),
      begin: page,
      size: page.map((n) => n + SSHM_PAGE_SIZE),
      owner: fc.boolean(),
      offset: fc.option(page, { nil: undefined }),
      hex: fc.boolean(),
      b: blank,
    });
    fc.assert(
      fc.property(specArb, (r) => {
        const num = (n: number): string => (r.hex ? `0x${n.toString(16)}` : String(n));
        const parts = [`id${r.b}=${r.b}${r.id}`, `begin=${num(r.begin)}`, `size${r.b}=${num(r.size)}`];
        if (r.owner) parts.push("role=owner", "cache_policy=ARM_normal");
        else if (r.offset !== undefined) parts.push(`offset=${num(r.offset)}`);
        const text = `name = "r"\nstatic_shm = [ "${parts.join(`${r.b},${r.b}`)}" ]\n`;
        const [s] = loadXlDomain(text, "r.cfg").staticShm;
        expect(s).toMatchObject({
          id: r.id,
          begin: r.begin,
          size: r.size,
          role: r.owner ? "owner" : "borrower",
          offset: r.owner ? 0 : (r.offset ?? 0),
        });
      }),
      { numRuns: 500 },
    );
  });

  it("finishes quickly on long pathological inputs", () => {
    const t0 = Date.now();
    for (const text of [
      `a = "${"\\\\".repeat(50_000)}"\n`,
      `a = [${' "x",'.repeat(50_000)}]\n`,
      `${"#".repeat(100_000)}\n`,
      `name = "n"\nstatic_shm = [ "${"id=A,".repeat(20_000)}" ]\n`,
      `name = "n"\nstatic_shm = [ "${",".repeat(100_000)}" ]\n`,
      `name = "n"\nstatic_shm = [ ${Array.from({ length: 400 }, (_, i) => `"id=I${i}, begin=${i * 4096}, size=4096"`).join(",")} ]\n`,
    ]) {
      resultOrSshmError(() => loadXlDomain(text, "p.cfg"));
    }
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

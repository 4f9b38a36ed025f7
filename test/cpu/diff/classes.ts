/**
 * The instruction classes of the differential test, one line each: a name and a generator of one
 * case's instructions (and the setup that points base registers into the case's memory block).
 * Adding a class = adding a line here.
 */
import { type Case, MEM, type Rng } from "./harness.js";

export interface DiffClass {
  readonly name: string;
  readonly cases: number;
  readonly gen: (g: Gen) => Case;
}

/** Operand generators over one case. */
export class Gen {
  constructor(
    readonly rng: Rng,
    readonly index: number,
  ) {}
  /** A register number 0..30 not in `avoid`. */
  n(avoid: readonly number[] = []): number {
    for (;;) {
      const r = this.rng.int(31);
      if (!avoid.includes(r)) return r;
    }
  }
  /** Xn or Wn (sf), sometimes the zero register when `zr`. */
  r(sf: boolean, zr = true): string {
    if (zr && this.rng.int(8) === 0) return sf ? "xzr" : "wzr";
    return `${sf ? "x" : "w"}${this.n()}`;
  }
  /** Xn/Wn or SP/WSP. */
  rsp(sf: boolean): string {
    if (this.rng.int(6) === 0) return sf ? "sp" : "wsp";
    return `${sf ? "x" : "w"}${this.n()}`;
  }
  bool(): boolean {
    return this.rng.bool();
  }
  sf(): boolean {
    return this.rng.bool();
  }
  imm(n: number): number {
    return this.rng.int(n);
  }
  pick<T>(xs: readonly T[]): T {
    return this.rng.pick(xs);
  }
  /** Set register x<reg> to mem_<index> + MEM/2 + off. */
  base(reg: number, off = 0): string[] {
    const m = `mem_${this.index}`;
    return [
      `adrp x${reg}, ${m}`,
      `add x${reg}, x${reg}, :lo12:${m}`,
      `add x${reg}, x${reg}, #${MEM / 2 + off}`,
    ];
  }
  /** An offset in [-lim, lim) that is a multiple of `align`. */
  off(lim: number, align: number): number {
    return (this.rng.int((2 * lim) / align) - lim / align) * align;
  }
}

const COND = ["eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al", "nv"];
const SHIFT = ["lsl", "lsr", "asr"];

/** N instructions from one generator. */
const many =
  (k: number, one: (g: Gen) => string) =>
  (g: Gen): Case => ({ setup: [], body: Array.from({ length: k }, () => one(g)) });

/** A valid logical-immediate encoding (N, immr, imms) as `.inst`, checked by the rule in DecodeBitMasks. */
function logicImm(g: Gen): string {
  for (;;) {
    const sf = g.sf();
    const n = sf ? g.imm(2) : 0;
    const immr = g.imm(64) & (sf ? 63 : 31);
    const imms = g.imm(64);
    const v = (n << 6) | (~imms & 63);
    if (v === 0) continue;
    const len = 31 - Math.clz32(v);
    if (len < 1) continue;
    const levels = (1 << len) - 1;
    if ((imms & levels) === levels) continue;
    const opc = g.imm(4);
    const rn = g.n();
    const rd = g.imm(32); // 31 = SP for AND/ORR/EOR, XZR for ANDS
    if (rd === 31 && opc !== 3) continue; // writing SP would break the dump's stack
    const w =
      ((sf ? 1 : 0) << 31) |
      (opc << 29) |
      (0x24 << 23) |
      (n << 22) |
      (immr << 16) |
      (imms << 10) |
      (rn << 5) |
      rd;
    return `.inst 0x${(w >>> 0).toString(16)}`;
  }
}

function bitfield(g: Gen): string {
  const sf = g.sf();
  const lim = sf ? 64 : 32;
  const op = g.pick(["sbfm", "bfm", "ubfm"]);
  return `${op} ${g.r(sf)}, ${g.r(sf)}, #${g.imm(lim)}, #${g.imm(lim)}`;
}

/** One load or store of the given addressing form on the base x<b> (set up by the caller). */
function ldstSingle(g: Gen, b: number, form: "ui" | "u" | "pre" | "post" | "reg"): Case {
  const ops: [string, number, boolean][] = [
    ["strb w", 1, false],
    ["strh w", 2, false],
    ["str w", 4, false],
    ["str x", 8, false],
    ["ldrb w", 1, false],
    ["ldrh w", 2, false],
    ["ldr w", 4, false],
    ["ldr x", 8, false],
    ["ldrsb w", 1, false],
    ["ldrsb x", 1, false],
    ["ldrsh w", 2, false],
    ["ldrsh x", 2, false],
    ["ldrsw x", 4, false],
  ];
  const [op, size] = g.pick(ops);
  const t = g.n([b]);
  const [mn, reg] = op.split(" ") as [string, string];
  const rt = `${reg}${t}`;
  const baseReg = g.rng.int(5) === 0 && form !== "reg" ? "sp" : `x${b}`;
  const off = g.off(96, size);
  if (form === "ui") {
    const o = g.imm(96 / size) * size;
    return { setup: g.base(b, -96), body: [`${mn} ${rt}, [${baseReg === "sp" ? `x${b}` : baseReg}, #${o}]`] };
  }
  if (form === "u") {
    const mnu = mn.replace("ldr", "ldur").replace("str", "stur");
    return { setup: g.base(b), body: [`${mnu} ${rt}, [${baseReg}, #${g.off(96, size)}]`] };
  }
  if (form === "pre") return { setup: g.base(b), body: [`${mn} ${rt}, [${baseReg}, #${off}]!`] };
  if (form === "post") return { setup: g.base(b), body: [`${mn} ${rt}, [${baseReg}], #${off}`] };
  const m = g.n([b, t]);
  const ext = g.pick(["lsl", "uxtw", "sxtw", "sxtx"]);
  const shift = g.bool() ? ` #${Math.log2(size)}` : "";
  const idxVal = g.off(96 / size, 1);
  const mr = ext === "uxtw" || ext === "sxtw" ? `w${m}` : `x${m}`;
  // The index register: sxtw/sxtx/lsl take a signed index, uxtw a non-negative one.
  const idx = ext === "uxtw" ? Math.abs(idxVal) : idxVal;
  return {
    setup: [...g.base(b, ext === "uxtw" ? -96 : 0), `mov x${m}, #${idx * (shift ? 1 : size)}`],
    body: [`${mn} ${rt}, [x${b}, ${mr}${ext === "lsl" && !shift ? "" : `, ${ext}${shift}`}]`],
  };
}

export const CLASSES: readonly DiffClass[] = [
  {
    name: "ADD/SUB (immediate) incl. flags, SP",
    cases: 60,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(["add", "adds", "sub", "subs", "cmp", "cmn"]);
      const imm = `#${g.imm(4096)}${g.bool() ? ", lsl #12" : ""}`;
      if (op === "cmp" || op === "cmn") return `${op} ${g.rsp(sf)}, ${imm}`;
      const d = op.endsWith("s") ? g.r(sf) : `${sf ? "x" : "w"}${g.n()}`;
      return `${op} ${d}, ${g.rsp(sf)}, ${imm}`;
    }),
  },
  {
    name: "ADD/SUB (shifted register) incl. flags",
    cases: 60,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(["add", "adds", "sub", "subs", "neg", "negs", "cmp", "cmn"]);
      const sh = `${g.pick(SHIFT)} #${g.imm(sf ? 64 : 32)}`;
      if (op === "neg" || op === "negs") return `${op} ${g.r(sf)}, ${g.r(sf)}, ${sh}`;
      if (op === "cmp" || op === "cmn") return `${op} ${g.r(sf)}, ${g.r(sf)}, ${sh}`;
      return `${op} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}, ${sh}`;
    }),
  },
  {
    name: "ADD/SUB (extended register) incl. flags, SP",
    cases: 60,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(["add", "adds", "sub", "subs"]);
      const ext = g.pick(["uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx"]);
      const m = sf && (ext === "uxtx" || ext === "sxtx") ? `x${g.n()}` : `w${g.n()}`;
      const d = op.endsWith("s") ? g.r(sf) : `${sf ? "x" : "w"}${g.n()}`;
      return `${op} ${d}, ${g.rsp(sf)}, ${m}, ${ext} #${g.imm(5)}`;
    }),
  },
  {
    name: "ADC/ADCS/SBC/SBCS/NGC",
    cases: 50,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(["adc", "adcs", "sbc", "sbcs", "ngc", "ngcs"]);
      if (op.startsWith("ngc")) return `${op} ${g.r(sf)}, ${g.r(sf)}`;
      return `${op} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}`;
    }),
  },
  { name: "AND/ORR/EOR/ANDS (immediate)", cases: 60, gen: many(4, logicImm) },
  {
    name: "logical (shifted register) incl. ROR, flags",
    cases: 60,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(["and", "bic", "orr", "orn", "eor", "eon", "ands", "bics", "tst", "mvn"]);
      const sh = `${g.pick([...SHIFT, "ror"])} #${g.imm(sf ? 64 : 32)}`;
      if (op === "tst" || op === "mvn") return `${op} ${g.r(sf)}, ${g.r(sf)}, ${sh}`;
      return `${op} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}, ${sh}`;
    }),
  },
  {
    name: "MOVZ/MOVN/MOVK",
    cases: 40,
    gen: many(4, (g) => {
      const sf = g.sf();
      return `${g.pick(["movz", "movn", "movk"])} ${g.r(sf)}, #${g.imm(65536)}, lsl #${16 * g.imm(sf ? 4 : 2)}`;
    }),
  },
  {
    name: "SBFM/BFM/UBFM, EXTR",
    cases: 60,
    gen: many(4, (g) => {
      if (g.imm(4) === 0) {
        const sf = g.sf();
        return `extr ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}, #${g.imm(sf ? 64 : 32)}`;
      }
      return bitfield(g);
    }),
  },
  {
    name: "ADR/ADRP",
    cases: 20,
    gen: many(4, (g) =>
      g.bool() ? `adr x${g.n()}, . + ${g.off(1 << 19, 1)}` : `adrp x${g.n()}, . + ${g.off(1 << 30, 4096)}`,
    ),
  },
  {
    name: "CSEL/CSINC/CSINV/CSNEG/CSET",
    cases: 50,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(["csel", "csinc", "csinv", "csneg", "cset", "csetm", "cinc"]);
      const cond = g.pick(COND.slice(0, 14));
      if (op === "cset" || op === "csetm") return `${op} ${g.r(sf)}, ${cond}`;
      if (op === "cinc") return `${op} ${g.r(sf)}, ${g.r(sf)}, ${cond}`;
      return `${op} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}, ${g.pick(COND)}`;
    }),
  },
  {
    name: "CCMP/CCMN (register, immediate)",
    cases: 50,
    gen: many(4, (g) => {
      const sf = g.sf();
      const b = g.bool() ? g.r(sf) : `#${g.imm(32)}`;
      return `${g.pick(["ccmp", "ccmn"])} ${g.r(sf)}, ${b}, #${g.imm(16)}, ${g.pick(COND)}`;
    }),
  },
  {
    name: "CLZ/CLS/RBIT/REV/REV16/REV32",
    cases: 50,
    gen: many(4, (g) => {
      const sf = g.sf();
      const op = g.pick(
        sf ? ["clz", "cls", "rbit", "rev", "rev16", "rev32"] : ["clz", "cls", "rbit", "rev", "rev16"],
      );
      return `${op} ${g.r(sf)}, ${g.r(sf)}`;
    }),
  },
  {
    name: "MADD/MSUB/SMADDL/UMADDL/SMSUBL/UMSUBL/SMULH/UMULH",
    cases: 60,
    gen: many(4, (g) => {
      const k = g.imm(4);
      if (k === 0) {
        const sf = g.sf();
        return `${g.pick(["madd", "msub"])} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}`;
      }
      if (k === 1)
        return `${g.pick(["smaddl", "umaddl", "smsubl", "umsubl"])} ${g.r(true)}, ${g.r(false)}, ${g.r(false)}, ${g.r(true)}`;
      if (k === 2) return `${g.pick(["smulh", "umulh"])} ${g.r(true)}, ${g.r(true)}, ${g.r(true)}`;
      const sf = g.sf();
      return `${g.pick(["mul", "mneg"])} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}`;
    }),
  },
  {
    name: "UDIV/SDIV",
    cases: 60,
    gen: many(4, (g) => {
      const sf = g.sf();
      return `${g.pick(["udiv", "sdiv"])} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}`;
    }),
  },
  {
    name: "LSLV/LSRV/ASRV/RORV",
    cases: 40,
    gen: many(4, (g) => {
      const sf = g.sf();
      return `${g.pick(["lslv", "lsrv", "asrv", "rorv"])} ${g.r(sf)}, ${g.r(sf)}, ${g.r(sf)}`;
    }),
  },
  {
    name: "CRC32*/CRC32C*",
    cases: 40,
    gen: many(4, (g) => {
      const sz = g.pick(["b", "h", "w", "x"]);
      const c = g.bool() ? "c" : "";
      return `crc32${c}${sz} ${g.r(false)}, ${g.r(false)}, ${g.r(sz === "x")}`;
    }),
  },
  {
    name: "B.cond/CBZ/CBNZ/TBZ/TBNZ/B/BL/BR/BLR/RET",
    cases: 60,
    gen: (g) => {
      const body: string[] = [];
      for (let k = 0; k < 4; k++) {
        const d = g.n([30]);
        const kind = g.imm(6);
        if (kind === 0) body.push(`b.${g.pick(COND)} 1f`);
        else if (kind === 1) body.push(`${g.pick(["cbz", "cbnz"])} ${g.r(g.sf(), false)}, 1f`);
        else if (kind === 2) {
          const sf = g.sf();
          body.push(`${g.pick(["tbz", "tbnz"])} ${sf ? "x" : "w"}${g.n()}, #${g.imm(sf ? 64 : 32)}, 1f`);
        } else if (kind === 3) body.push("bl 2f", "b 1f", "2:", "ret");
        else if (kind === 4) body.push(`adr x${d}, 1f`, g.bool() ? `br x${d}` : `blr x${d}`);
        else body.push("b 1f");
        body.push(`add x${d}, x${d}, #1`, "1:");
      }
      return { setup: [], body };
    },
  },
  {
    name: "LDR/STR (immediate, unsigned offset) all sizes, sign-extending",
    cases: 60,
    gen: (g) => ldstSingle(g, g.n(), "ui"),
  },
  { name: "LDUR/STUR (unscaled) all sizes", cases: 60, gen: (g) => ldstSingle(g, g.n(), "u") },
  { name: "LDR/STR pre-index", cases: 60, gen: (g) => ldstSingle(g, g.n(), "pre") },
  { name: "LDR/STR post-index", cases: 60, gen: (g) => ldstSingle(g, g.n(), "post") },
  { name: "LDR/STR (register offset, extend/shift)", cases: 60, gen: (g) => ldstSingle(g, g.n(), "reg") },
  {
    name: "LDR (literal), LDRSW (literal)",
    cases: 30,
    gen: (g) => {
      const t = g.n();
      const v = g.rng.u64();
      const op = g.pick(["ldr x", "ldr w", "ldrsw x"]);
      const [mn, reg] = op.split(" ") as [string, string];
      return {
        setup: [],
        body: [`${mn} ${reg}${t}, 3f`, "b 4f", ".balign 8", `3: .quad 0x${v.toString(16)}`, "4:"],
      };
    },
  },
  {
    name: "LDP/STP/LDPSW (offset, pre, post), SP base",
    cases: 60,
    gen: (g) => {
      const b = g.n();
      const [op, size] = g.pick([
        ["ldp x", 8],
        ["stp x", 8],
        ["ldp w", 4],
        ["stp w", 4],
        ["ldpsw x", 4],
        ["ldnp x", 8],
        ["stnp w", 4],
      ] as const);
      const [mn, reg] = op.split(" ") as [string, string];
      const t1 = g.n([b]);
      const t2 = g.n([b, t1]);
      const off = g.off(64, size);
      const base = g.rng.int(4) === 0 ? "sp" : `x${b}`;
      const mode = mn.includes("np") ? 0 : g.imm(3);
      const addr =
        mode === 0 ? `[${base}, #${off}]` : mode === 1 ? `[${base}, #${off}]!` : `[${base}], #${off}`;
      return { setup: g.base(b), body: [`${mn} ${reg}${t1}, ${reg}${t2}, ${addr}`] };
    },
  },
  {
    name: "LDXR/STXR/LDAXR/STLXR/LDXP/STXP, LDAR/STLR, CLREX",
    cases: 40,
    gen: (g) => {
      const b = g.n();
      const reg = g.pick(["x", "w", "h", "b"] as const);
      const suffix = reg === "h" || reg === "b" ? reg : "";
      const r = reg === "x" ? "x" : "w";
      const t = g.n([b]);
      const s = g.n([b, t]);
      const t2 = g.n([b, t, s]);
      const off = g.off(64, 16);
      const setup = g.base(b, off);
      const k = g.imm(4);
      if (k === 0 && (reg === "x" || reg === "w"))
        return {
          setup,
          body: [`ldxp ${r}${t}, ${r}${t2}, [x${b}]`, `stxp w${s}, ${r}${t2}, ${r}${t}, [x${b}]`],
        };
      if (k === 1)
        return { setup, body: [`ldar${suffix} ${r}${t}, [x${b}]`, `stlr${suffix} ${r}${t2}, [x${b}, #0]`] };
      if (k === 2)
        return {
          setup,
          body: [`ldxr${suffix} ${r}${t}, [x${b}]`, "clrex", `stxr${suffix} w${s}, ${r}${t2}, [x${b}]`],
        };
      return {
        setup,
        body: [
          `ldaxr${suffix} ${r}${t}, [x${b}]`,
          `add ${r === "x" ? "x" : "w"}${t2}, ${r === "x" ? "x" : "w"}${t}, #1`,
          `stlxr${suffix} w${s}, ${r}${t2}, [x${b}]`,
        ],
      };
    },
  },
  {
    name: "LSE: CAS/CASP/LDADD/LDCLR/LDEOR/LDSET/LDSMAX/LDSMIN/LDUMAX/LDUMIN/SWP",
    cases: 60,
    gen: (g) => {
      const b = g.n();
      const [reg, sfx] = g.pick([
        ["x", ""],
        ["w", ""],
        ["w", "h"],
        ["w", "b"],
      ] as const);
      const ord = g.pick(["", "a", "l", "al"]);
      const setup = g.base(b, g.off(64, 16));
      const k = g.imm(3);
      if (k === 0) {
        // CAS: sometimes make the compare succeed by loading the old value first.
        const s = g.n([b]);
        const t = g.n([b, s]);
        const pre = g.bool() ? [`ldr${sfx} ${reg}${s}, [x${b}]`] : [];
        return { setup, body: [...pre, `cas${ord}${sfx} ${reg}${s}, ${reg}${t}, [x${b}]`] };
      }
      if (k === 1 && sfx === "") {
        // Rs pair in x0..x15, Rt pair in x16..x29, base x30: no overlap.
        const s = 2 * g.imm(8);
        const t = 2 * g.imm(7) + 16;
        const pre = g.bool() ? [`ldp ${reg}${s}, ${reg}${s + 1}, [x30]`] : [];
        return {
          setup: g.base(30, g.off(64, 16)),
          body: [...pre, `casp${ord} ${reg}${s}, ${reg}${s + 1}, ${reg}${t}, ${reg}${t + 1}, [x30]`],
        };
      }
      const op = g.pick(["ldadd", "ldclr", "ldeor", "ldset", "ldsmax", "ldsmin", "ldumax", "ldumin", "swp"]);
      return { setup, body: [`${op}${ord}${sfx} ${reg}${g.n([b])}, ${g.r(reg === "x")}, [x${b}]`] };
    },
  },
  {
    name: "SIMD&FP LDR/STR/LDP/STP (B/H/S/D/Q), FMOV general, MOVI/MVNI, DUP/INS/UMOV/SMOV",
    cases: 60,
    gen: (g) => {
      const b = g.n();
      const v = g.imm(8);
      const v2 = (v + 1 + g.imm(7)) % 8;
      const k = g.imm(8);
      const setup = g.base(b);
      const [ch, size] = g.pick([
        ["b", 1],
        ["h", 2],
        ["s", 4],
        ["d", 8],
        ["q", 16],
      ] as const);
      const o = g.off(64, size);
      if (k === 0) return { setup, body: [`${g.pick(["ldr", "str"])} ${ch}${v}, [x${b}, #${o}]`] };
      if (k === 1 && size >= 4)
        return {
          setup,
          body: [
            `${g.pick(["ldp", "stp"])} ${ch}${v}, ${ch}${v2}, [x${b}, #${g.off(64, size)}]${g.bool() ? "!" : ""}`,
          ],
        };
      if (k === 2)
        return { setup, body: [`${g.pick(["ldur", "stur"])} ${ch}${v}, [x${b}, #${g.off(64, size)}]`] };
      if (k === 3) {
        const forms = [
          `fmov s${v}, ${g.r(false)}`,
          `fmov ${g.r(false)}, s${v}`,
          `fmov d${v}, ${g.r(true)}`,
          `fmov ${g.r(true)}, d${v}`,
          `fmov v${v}.d[1], ${g.r(true)}`,
          `fmov ${g.r(true)}, v${v}.d[1]`,
        ];
        return { setup, body: [g.pick(forms)] };
      }
      if (k === 4) {
        const forms = [
          `movi v${v}.${g.pick(["2s", "4s"])}, #${g.imm(256)}, lsl #${8 * g.imm(4)}`,
          `mvni v${v}.${g.pick(["4h", "8h"])}, #${g.imm(256)}, lsl #${8 * g.imm(2)}`,
          `movi v${v}.${g.pick(["8b", "16b"])}, #${g.imm(256)}`,
          `movi v${v}.2d, #0x${g.pick(["ff00ff00ff00ff00", "00000000ffffffff", "0", "ff000000000000ff"])}`,
          `movi d${v}, #0x${g.pick(["ff00ff00ff00ff00", "00ffff0000ffff00"])}`,
          `movi v${v}.4s, #${g.imm(256)}, msl #${g.pick([8, 16])}`,
          `orr v${v}.4s, #${g.imm(256)}, lsl #${8 * g.imm(4)}`,
          `bic v${v}.8h, #${g.imm(256)}, lsl #${8 * g.imm(2)}`,
          `fmov v${v}.4s, #${g.pick(["1.0", "-2.5", "0.125", "31.0"])}`,
          `fmov v${v}.2d, #${g.pick(["1.0", "-0.5", "3.0"])}`,
        ];
        return { setup, body: [g.pick(forms)] };
      }
      if (k === 5) {
        const t = g.pick(["8b", "16b", "4h", "8h", "2s", "4s", "2d"]);
        return { setup, body: [`dup v${v}.${t}, ${t === "2d" ? g.r(true) : g.r(false)}`] };
      }
      if (k === 6) {
        const [t, n] = g.pick([
          ["b", 16],
          ["h", 8],
          ["s", 4],
          ["d", 2],
        ] as const);
        return { setup, body: [`mov v${v}.${t}[${g.imm(n)}], ${t === "d" ? g.r(true) : g.r(false)}`] };
      }
      const [t, n, x] = g.pick([
        ["b", 16, false],
        ["h", 8, false],
        ["s", 4, false],
        ["d", 2, true],
      ] as const);
      const sm = t !== "d" && g.bool();
      if (sm)
        return { setup, body: [`smov ${t === "s" ? g.r(true) : g.r(g.sf())}, v${v}.${t}[${g.imm(n)}]`] };
      return { setup, body: [`umov ${g.r(x)}, v${v}.${t}[${g.imm(n)}]`] };
    },
  },
];

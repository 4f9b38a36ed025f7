/**
 * Differential testing of the A64 interpreter against qemu-aarch64 (user mode, TCG).
 *
 * For one instruction class, `buildProgram` turns generated cases into one static Linux program:
 * each case loads random registers and NZCV (and points base registers into its own block of
 * random memory), runs the class's instructions, then dumps X0..X30, SP, NZCV and Q0..Q7 into its
 * output slot; at the end the program writes every output slot and every memory block to stdout.
 * qemu-aarch64 runs the program; sshm loads the same ELF into guest RAM behind a real p2m and runs
 * each case from its first instruction to its dump (at EL0, as qemu-user runs it), then the
 * register states and memory blocks are compared.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A64Cpu, MAX_CORE, RUN_BUDGET, SYS } from "../../../src/cpu/index.js";
import { P2m, p2m_ram_rw, Vcpu } from "../../../src/p2m/index.js";
import { Machine } from "../../../src/pagealloc/index.js";

export const MEM = 256; // bytes of random memory per case
const OUT = 400; // per-case output slot: X0..X30, SP, NZCV, pad, Q0..Q7
const TOOLS = ["aarch64-linux-gnu-gcc", "aarch64-linux-gnu-nm", "qemu-aarch64"];

/** Why the toolchain is unusable, or undefined when every tool runs. */
export function toolchainMissing(): string | undefined {
  for (const t of TOOLS) {
    try {
      execFileSync(t, ["--version"], { stdio: "ignore" });
    } catch {
      return `${t} not found (install gcc-aarch64-linux-gnu and qemu-user)`;
    }
  }
  return undefined;
}

export interface Case {
  /** Assembly run before the random register load is complete (base registers etc.). */
  readonly setup: readonly string[];
  /** The instructions under test. */
  readonly body: readonly string[];
}

export interface CaseInit {
  /** X0..X30 initial values (decimal or 0x strings for `ldr x, =`), SP offset into the block. */
  readonly x: readonly bigint[];
  readonly nzcv: number;
  /** Random bytes of this case's memory block. */
  readonly mem: Uint8Array;
  /** Q0..Q7 initial values as 16 bytes each. */
  readonly q: Uint8Array;
}

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** One static program for all cases of a class. */
export function buildProgram(cases: readonly (Case & CaseInit)[]): string {
  const L: string[] = [".arch armv8.1-a+crc", ".text", ".global _start", "_start:"];
  cases.forEach((c, i) => {
    L.push(`case_${i}:`);
    L.push(`  ldr x0, =${hex(BigInt(c.nzcv) << 28n)}`, "  msr nzcv, x0");
    // Q0..Q7 from the case's init block, SP into the middle of its memory block (16-aligned).
    L.push(`  adrp x0, qinit_${i}`, `  add x0, x0, :lo12:qinit_${i}`);
    L.push(
      "  ldp q0, q1, [x0]",
      "  ldp q2, q3, [x0, #32]",
      "  ldp q4, q5, [x0, #64]",
      "  ldp q6, q7, [x0, #96]",
    );
    L.push(
      `  adrp x0, mem_${i}`,
      `  add x0, x0, :lo12:mem_${i}`,
      `  add x0, x0, #${MEM / 2}`,
      "  mov sp, x0",
    );
    for (let r = 0; r < 31; r++) L.push(`  ldr x${r}, =${hex(c.x[r]!)}`);
    for (const s of c.setup) L.push(`  ${s}`);
    L.push(`body_${i}:`);
    for (const b of c.body) L.push(b.endsWith(":") ? b : `  ${b}`);
    L.push(`case_${i}_end:`);
    L.push("  msr tpidr_el0, x0", `  adrp x0, out_${i}`, `  add x0, x0, :lo12:out_${i}`);
    for (let r = 1; r < 31; r += 2)
      L.push(r === 29 ? `  stp x29, x30, [x0, #232]` : `  stp x${r}, x${r + 1}, [x0, #${8 * r}]`);
    L.push(
      "  mrs x1, tpidr_el0",
      "  str x1, [x0]",
      "  mov x1, sp",
      "  str x1, [x0, #248]",
      "  mrs x1, nzcv",
      "  str x1, [x0, #256]",
    );
    L.push(
      "  stp q0, q1, [x0, #272]",
      "  stp q2, q3, [x0, #304]",
      "  stp q4, q5, [x0, #336]",
      "  stp q6, q7, [x0, #368]",
    );
    L.push(`  b case_${i + 1}`, "  .ltorg");
  });
  L.push(`case_${cases.length}:`);
  L.push(
    "  mov x0, #1",
    "  adrp x1, out_0",
    "  add x1, x1, :lo12:out_0",
    `  ldr x2, =${cases.length * (OUT + MEM)}`,
  );
  L.push("  mov x8, #64", "  svc #0", "  mov x0, #0", "  mov x8, #93", "  svc #0", "  .ltorg");
  L.push(".data", ".balign 4096");
  for (let i = 0; i < cases.length; i++) L.push(`out_${i}: .space ${OUT}`);
  cases.forEach((c, i) => {
    L.push(`mem_${i}: .byte ${Array.from(c.mem).join(",")}`);
  });
  cases.forEach((c, i) => {
    L.push(".balign 16", `qinit_${i}: .byte ${Array.from(c.q).join(",")}`);
  });
  return `${L.join("\n")}\n`;
}

export interface Built {
  readonly elf: Uint8Array;
  readonly symbols: Map<string, number>;
  /** qemu-aarch64's stdout. */
  readonly qemu: Uint8Array;
}

/** Assemble and link with the cross toolchain, run under qemu-aarch64. */
export function assembleAndRun(asm: string): Built {
  const dir = mkdtempSync(join(tmpdir(), "sshm-a64-"));
  try {
    const src = join(dir, "t.S");
    const elf = join(dir, "t.elf");
    writeFileSync(src, asm);
    execFileSync("aarch64-linux-gnu-gcc", ["-nostdlib", "-static", "-Wl,--build-id=none", "-o", elf, src], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const nm = execFileSync("aarch64-linux-gnu-nm", [elf], { encoding: "utf8" });
    const symbols = new Map<string, number>();
    for (const line of nm.split("\n")) {
      const m = /^([0-9a-f]+) \w (\S+)$/.exec(line);
      if (m) symbols.set(m[2]!, Number.parseInt(m[1]!, 16));
    }
    const qemu = execFileSync("qemu-aarch64", [elf], { maxBuffer: 1 << 26 });
    return { elf: readFileSync(elf), symbols, qemu: new Uint8Array(qemu) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A register state as both sides report it. */
export interface State {
  readonly x: readonly bigint[]; // X0..X30, SP, NZCV
  readonly q: readonly bigint[]; // Q0..Q7 as 128-bit values
}

export function qemuStates(out: Uint8Array, n: number): { states: State[]; mem: Uint8Array[] } {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (out.length !== n * (OUT + MEM))
    throw new Error(`qemu-aarch64 wrote ${out.length} bytes, expected ${n * (OUT + MEM)}`);
  const states: State[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * OUT;
    const x: bigint[] = [];
    for (let r = 0; r < 33; r++) x.push(dv.getBigUint64(b + 8 * r, true));
    x[32] = x[32]! >> 28n;
    const q: bigint[] = [];
    for (let k = 0; k < 8; k++)
      q.push(dv.getBigUint64(b + 272 + 16 * k, true) | (dv.getBigUint64(b + 280 + 16 * k, true) << 64n));
    states.push({ x, q });
  }
  const mem: Uint8Array[] = [];
  for (let i = 0; i < n; i++) mem.push(out.slice(n * OUT + i * MEM, n * OUT + (i + 1) * MEM));
  return { states, mem };
}

const RAM = 0x4000_0000;

/** Run every case on sshm's interpreter over guest RAM mapped by a p2m at the ELF's addresses. */
export function sshmStates(b: Built, n: number): { states: State[]; mem: Uint8Array[]; errors: string[] } {
  const m = new Machine([{ base: RAM, size: 0x400_0000 }]);
  const d = m.alloc.domain(1);
  d.maxPages = 0x4000;
  const p2m = new P2m(m, 1, 1);
  const vcpu = new Vcpu(m.mem, p2m.handle());
  loadElf(b.elf, m, d, p2m, vcpu);
  const cpu = new A64Cpu(vcpu, m.mem, { name: "diff", core: MAX_CORE });
  cpu.selectSp(0, 0);
  cpu.setSys(SYS.CPACR_EL1, 3 << 20, 0);
  // qemu-user does not check SP alignment at EL0: run with SCTLR_EL1.SA0 clear.
  cpu.setSys(SYS.SCTLR_EL1, 0x00c50078 & ~0x10, 0);
  const states: State[] = [];
  const errors: string[] = [];
  for (let i = 0; i < n; i++) {
    const start = b.symbols.get(`case_${i}`)!;
    const end = b.symbols.get(`case_${i}_end`)!;
    cpu.pc = start;
    let steps = 0;
    while (cpu.pc !== end && cpu.stopped === undefined && steps < 100_000) {
      const r = cpu.run(1);
      steps++;
      if (r !== RUN_BUDGET) break;
      if (cpu.el !== 0) {
        errors.push(
          `case ${i}: took an exception to EL1 (ESR_EL1 0x${(cpu.sysLo(SYS.ESR_EL1) >>> 0).toString(16)}, ELR 0x${(cpu.sysLo(SYS.ELR_EL1) >>> 0).toString(16)})`,
        );
        break;
      }
    }
    if (cpu.stopped !== undefined) {
      errors.push(`case ${i}: ${cpu.stopped}`);
      return { states, mem: [], errors };
    }
    if (cpu.el !== 0) return { states, mem: [], errors };
    const x: bigint[] = [];
    for (let r = 0; r < 31; r++) x.push(big(cpu.xlo(r), cpu.xhi(r)));
    x.push(big(cpu.r[64]!, cpu.r[65]!));
    x.push(BigInt((cpu.nf << 3) | (cpu.zf << 2) | (cpu.cf << 1) | cpu.vf));
    const q: bigint[] = [];
    for (let k = 0; k < 8; k++) {
      const v = cpu.vreg;
      q.push(big(v[4 * k]!, v[4 * k + 1]!) | (big(v[4 * k + 2]!, v[4 * k + 3]!) << 64n));
    }
    states.push({ x, q });
  }
  const mem: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const buf = new Uint8Array(MEM);
    vcpu.readBytes(b.symbols.get(`mem_${i}`)!, buf);
    mem.push(buf);
  }
  return { states, mem, errors };
}

function big(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Map the ELF's PT_LOAD segments into guest RAM (one contiguous block) and copy their bytes. */
function loadElf(
  elf: Uint8Array,
  m: Machine,
  d: ReturnType<Machine["alloc"]["domain"]>,
  p2m: P2m,
  vcpu: Vcpu,
): void {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(dv.getBigUint64(0x20, true));
  const phentsize = dv.getUint16(0x36, true);
  const phnum = dv.getUint16(0x38, true);
  const segs: { vaddr: number; off: number; filesz: number; memsz: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    segs.push({
      off: Number(dv.getBigUint64(p + 8, true)),
      vaddr: Number(dv.getBigUint64(p + 16, true)),
      filesz: Number(dv.getBigUint64(p + 32, true)),
      memsz: Number(dv.getBigUint64(p + 40, true)),
    });
  }
  const lo = Math.min(...segs.map((s) => s.vaddr)) & ~0xfff;
  const hi = Math.max(...segs.map((s) => s.vaddr + s.memsz));
  const pages = Math.ceil((hi - lo) / 4096);
  const order = Math.ceil(Math.log2(pages));
  const mfn = m.alloc.alloc_domheap_pages(d, order);
  if (mfn < 0) throw new Error(`cannot allocate ${pages} pages for the test ELF`);
  p2m.insertMapping(lo / 4096, pages, mfn, p2m_ram_rw);
  vcpu.writeBytes(lo, new Uint8Array(pages * 4096));
  for (const s of segs) vcpu.writeBytes(s.vaddr, elf.subarray(s.off, s.off + s.filesz));
}

// ---- seeded generators ----

/** mulberry32: small, seedable, reproducible. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
  /** A 64-bit value biased towards the edges that break arithmetic. */
  u64(): bigint {
    const k = this.int(10);
    const r = (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    switch (k) {
      case 0:
        return BigInt(this.int(5));
      case 1:
        return BigInt.asUintN(64, -BigInt(this.int(4) + 1));
      case 2:
        return this.pick([
          0x7fffffffffffffffn,
          0x8000000000000000n,
          0xffffffffn,
          0x80000000n,
          0x7fffffffn,
          0x100000000n,
        ]);
      case 3:
        return r & 0xffffffffn;
      case 4:
        return BigInt.asUintN(64, BigInt(this.u32() | 0)); // sign-extended 32-bit
      case 5:
        return r >> BigInt(this.int(64));
      default:
        return r;
    }
  }
}

export function seedOf(name: string): number {
  let h = Number(process.env.SSHM_DIFF_SEED ?? "1") >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

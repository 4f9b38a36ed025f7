/**
 * Suite `guest` (one op = one guest instruction): the A64 interpreter running a tight loop of
 * loads, stores, ALU ops and a branch over a 64 KiB buffer in guest RAM, the loop gcc -O2 makes of
 * `for (i = 0; i < n; i++) { a[i] += k; s ^= a[i]; }`:
 *
 *   1: ldr x3, [x0]; add x3, x3, x2; eor x4, x4, x3; str x3, [x0], #8; cmp x0, x1; b.ne 1b
 *
 * with an outer loop re-starting it over the buffer. Cases:
 * - `qemu-aarch64`: the same loop as a static Linux ELF under qemu-aarch64 (TCG), timed from two
 *   runs of different lengths so that process start-up cancels out; absent (n/a) when the cross
 *   toolchain or qemu-user is not installed;
 * - the interpreter with every fetch, load and store through the domain's stage-2 p2m and the vCPU's
 *   TLB (the real path), target >= 150 M instructions/s (issue 14);
 * - the floor: the same interpreter over a flat identity IPA -> PA memory with no translation and
 *   no checks, which bounds what the stage-2 path can reach.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A64Cpu, type GuestMemory, MAX_CORE } from "../src/cpu/index.js";
import { P2m, p2m_ram_rw, Vcpu } from "../src/p2m/index.js";
import { type HostMemory, Machine } from "../src/pagealloc/index.js";
import type { BenchCase, BenchSuite } from "./lib.js";

const GBASE = 0x4000_0000; // guest RAM IPA (GUEST_RAM0_BASE)
const BUF = 0x1_0000; // buffer offset in guest RAM
const BUF_BYTES = 64 * 1024;
const INNER = 6; // instructions per element
const OUTER = 3; // instructions per pass (mov, subs, b.ne)
/** Instructions per call of a measured case. */
const STEPS = 1 << 20;

// The loop as machine code (aarch64-linux-gnu-as of the source below), so the interpreter cases
// run without the cross toolchain installed. x5 = buffer, x1 = buffer end, x2 = k, x6 = passes.
const LOOP_SRC = `
outer:
  mov x0, x5
inner:
  ldr x3, [x0]
  add x3, x3, x2
  eor x4, x4, x3
  str x3, [x0], #8
  cmp x0, x1
  b.ne inner
  subs x6, x6, #1
  b.ne outer
`;
const LOOP_WORDS = [
  0xaa0503e0, 0xf9400003, 0x8b020063, 0xca030084, 0xf8008403, 0xeb01001f, 0x54ffff61, 0xf10004c6, 0x54ffff01,
];

/** A flat identity mapping IPA = PA over one RAM chunk: no translation, no permission, no fault. */
class FlatMemory implements GuestMemory {
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  private readonly origin: number;
  constructor(mem: HostMemory, pa: number) {
    const loc = mem.locate(pa, 4096);
    this.u32 = mem.chunkU32(loc.chunk);
    this.u8 = mem.chunkU8(loc.chunk);
    this.origin = pa - loc.offset;
  }
  fetch32(ipa: number): number {
    return this.u32[(ipa - this.origin) >>> 2]!;
  }
  read8(ipa: number): number {
    return this.u8[ipa - this.origin]!;
  }
  read16(ipa: number): number {
    const o = ipa - this.origin;
    return this.u8[o]! | (this.u8[o + 1]! << 8);
  }
  read32(ipa: number): number {
    return this.u32[(ipa - this.origin) >>> 2]!;
  }
  write8(ipa: number, v: number): void {
    this.u8[ipa - this.origin] = v;
  }
  write16(ipa: number, v: number): void {
    const o = ipa - this.origin;
    this.u8[o] = v;
    this.u8[o + 1] = v >>> 8;
  }
  write32(ipa: number, v: number): void {
    this.u32[(ipa - this.origin) >>> 2] = v;
  }
  translate(ipa: number): number {
    return ipa;
  }
  sync(): boolean {
    return false;
  }
}

/** Set up the loop's registers; passes = effectively infinite (the budget ends each call). */
function prime(cpu: A64Cpu, base: number): void {
  cpu.pc = base;
  cpu.setX(5, base + BUF, 0);
  cpu.setX(1, base + BUF + BUF_BYTES, 0);
  cpu.setX(2, 3, 0);
  cpu.setX(6, 0x7fffffff, 0);
  cpu.setX(0, base + BUF, 0);
}

function writeLoop(write: (a: number, v: number) => void, base: number): void {
  LOOP_WORDS.forEach((w, i) => {
    write(base + 4 * i, w);
  });
}

/** qemu-aarch64's time per guest instruction on this loop, or undefined when it cannot run. */
function qemuNsPerInsn(): { meanNs: number; p99Ns: number } | undefined {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), "sshm-bench-"));
    const build = (passes: number): string => {
      const src = join(dir!, `l${passes}.S`);
      const elf = join(dir!, `l${passes}`);
      writeFileSync(
        src,
        `.text\n.global _start\n_start:\n adrp x5, buf\n add x5, x5, :lo12:buf\n add x1, x5, #${BUF_BYTES}\n mov x2, #3\n ldr x6, =${passes}\n${LOOP_SRC}\n mov x0, #0\n mov x8, #93\n svc #0\n .ltorg\n.bss\n.balign 4096\nbuf: .space ${BUF_BYTES}\n`,
      );
      execFileSync("aarch64-linux-gnu-gcc", ["-nostdlib", "-static", "-o", elf, src], { stdio: "ignore" });
      return elf;
    };
    const short = build(200);
    const long = build(20200);
    const time = (elf: string): number => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t0 = process.hrtime.bigint();
        execFileSync("qemu-aarch64", [elf], { stdio: "ignore" });
        best = Math.min(best, Number(process.hrtime.bigint() - t0));
      }
      return best;
    };
    const perPass = (BUF_BYTES / 8) * INNER + OUTER;
    const ns = (time(long) - time(short)) / (20000 * perPass);
    return { meanNs: ns, p99Ns: ns };
  } catch {
    return undefined;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

export const guestSuite: BenchSuite = {
  name: "guest",
  unit: "guest instruction",
  cases() {
    // The real path: guest RAM behind a domain's p2m, every access through the vCPU's TLB.
    const m = new Machine([{ base: 0x8000_0000, size: 0x400_0000 }]);
    const d = m.alloc.domain(1);
    d.maxPages = 64;
    const mfn = m.alloc.alloc_domheap_pages(d, 5); // 128 KiB: code page + 64 KiB buffer
    const p2m = new P2m(m, 1, 1);
    p2m.insertMapping(GBASE / 4096, 32, mfn, p2m_ram_rw);
    const vcpu = new Vcpu(m.mem, p2m.handle());
    writeLoop((a, v) => vcpu.write32(a, v), GBASE);
    const cpu = new A64Cpu(vcpu, m.mem, { name: "bench", core: MAX_CORE });
    prime(cpu, GBASE);

    // The floor: identity IPA = PA over host RAM, no stage-2 at all.
    const fbase = m.alloc.alloc_domheap_pages(undefined, 5) * 4096; // another 128 KiB of host RAM
    const flat = new FlatMemory(m.mem, fbase);
    writeLoop((a, v) => flat.write32(a, v), fbase);
    const fcpu = new A64Cpu(flat, m.mem, { name: "floor", core: MAX_CORE });
    prime(fcpu, fbase);

    const qemu = qemuNsPerInsn();
    const baseline = qemu === undefined ? {} : { baseline: "qemu-aarch64 (TCG) same loop" };
    const cases: BenchCase[] = [];
    if (qemu !== undefined)
      cases.push({ name: "qemu-aarch64 (TCG) same loop", ops: 1, run: async () => qemu });
    else process.stderr.write("guest: qemu-aarch64 or aarch64-linux-gnu-gcc not installed: baseline n/a\n");
    cases.push(
      {
        name: "interpreter ldr/add/eor/str/cmp/b.ne, stage-2 p2m",
        ...baseline,
        ops: STEPS,
        target: { minOpsPerSec: 150e6 },
        fn: () => {
          cpu.run(STEPS);
          if (cpu.stopped !== undefined) throw new Error(cpu.stopped);
        },
      },
      {
        name: "floor: interpreter, flat identity IPA->PA memory",
        ...baseline,
        ops: STEPS,
        fn: () => {
          fcpu.run(STEPS);
          if (fcpu.stopped !== undefined) throw new Error(fcpu.stopped);
        },
      },
    );
    return cases;
  },
};

/**
 * The A64 vCPU's exceptions and exits: vector offsets, ESR/FAR/ELR/SPSR and PSTATE on entry to
 * EL1 (AArch64.TakeException), ERET, SP banking, alignment faults with the MMU off, UNDEFINED
 * encodings, the FP trap, the EL2 trap interface (HVC, SMC, WFx, sysreg, stage-2 aborts) and the
 * stops for what sshm does not implement. Each expected syndrome is the Arm ARM's encoding, written
 * out as a number.
 */
import { describe, expect, it } from "vitest";
import {
  A64Cpu,
  CORTEX_A57,
  MAX_CORE,
  RUN_STOPPED,
  type Stage2Abort,
  SYS,
  type SysregTrap,
  type VcpuTraps,
} from "../../src/cpu/index.js";
import { P2m, p2m_map_foreign_rw, p2m_ram_rw, Vcpu } from "../../src/p2m/index.js";
import { Machine } from "../../src/pagealloc/index.js";
import { assemble } from "./asm.js";
import { toolchainMissing } from "./diff/harness.js";

const missing = toolchainMissing();
if (missing !== undefined && process.env.CI === "true")
  throw new Error(`A64 exception tests need the cross toolchain: ${missing}`);

const BASE = 0x4000_0000; // guest RAM IPA (GUEST_RAM0_BASE)
const VBAR = 0x4000_8000;

interface Exit {
  kind: string;
  esr?: number;
  imm?: number;
  abort?: Stage2Abort;
  sys?: SysregTrap;
}

/** A guest with 64 KiB of RAM at BASE (plus a foreign page at BASE + 64 KiB), code at BASE. */
function guest(src: string, opts: { core?: typeof MAX_CORE } = {}) {
  const m = new Machine([{ base: 0x8000_0000, size: 0x100_0000 }]);
  const d = m.alloc.domain(1);
  d.maxPages = 64;
  const mfn = m.alloc.alloc_domheap_pages(d, 4);
  const p2m = new P2m(m, 1, 1);
  p2m.insertMapping(BASE / 4096, 16, mfn, p2m_ram_rw);
  const foreign = m.alloc.alloc_domheap_pages(undefined, 0);
  p2m.insertMapping(BASE / 4096 + 16, 1, foreign, p2m_map_foreign_rw);
  const v = new Vcpu(m.mem, p2m.handle());
  v.writeBytes(BASE, assemble(src));
  const exits: Exit[] = [];
  const traps: VcpuTraps = {
    hvc: (_c, imm, esr) => {
      exits.push({ kind: "hvc", imm, esr });
      _c.halt = 1;
    },
    smc: (c, imm, esr) => {
      exits.push({ kind: "smc", imm, esr });
      c.halt = 1;
    },
    wfx: (c, wfe, esr) => {
      exits.push({ kind: wfe ? "wfe" : "wfi", esr });
      c.halt = 1;
    },
    sysreg: (c, t) => {
      exits.push({ kind: "sysreg", esr: t.esr, sys: t });
      c.halt = 1;
    },
    stage2Abort: (c, a) => {
      exits.push({ kind: "abort", esr: a.esr, abort: a });
      c.halt = 1;
    },
  };
  const cpu = new A64Cpu(v, m.mem, { name: "d1", core: opts.core ?? MAX_CORE, traps });
  cpu.pc = BASE;
  cpu.setSys(SYS.VBAR_EL1, VBAR, 0);
  return { cpu, exits, v, p2m };
}

const esr = (c: A64Cpu) => c.sysLo(SYS.ESR_EL1) >>> 0;
const elr = (c: A64Cpu) => (c.sysHi(SYS.ELR_EL1) >>> 0) * 2 ** 32 + (c.sysLo(SYS.ELR_EL1) >>> 0);
const far = (c: A64Cpu) => (c.sysHi(SYS.FAR_EL1) >>> 0) * 2 ** 32 + (c.sysLo(SYS.FAR_EL1) >>> 0);
const spsr = (c: A64Cpu) => c.sysLo(SYS.SPSR_EL1) >>> 0;

/** Run until the PC reaches `stop` or n instructions ran. */
function runTo(c: A64Cpu, stop: number, n = 1000): void {
  for (let i = 0; i < n && c.pc !== stop && c.stopped === undefined && c.halt === 0; i++) c.run(1);
}

describe.skipIf(missing !== undefined)("A64 exceptions to EL1", () => {
  it("SVC from EL1h: VBAR + 0x200, ESR EC 0x15 with the immediate, ELR = next, SPSR = PSTATE, DAIF masked", () => {
    const { cpu } = guest("msr daifclr, #0xf\n mov x9, #0\n cmp x9, #1\n svc #0x1234");
    cpu.run(4);
    expect(cpu.pc).toBe(VBAR + 0x200);
    expect(esr(cpu)).toBe(0x56001234);
    expect(elr(cpu)).toBe(BASE + 16);
    // N=1 C=0 after cmp xzr, #1 (0 - 1); DAIF clear; EL1h.
    expect(spsr(cpu)).toBe(0x80000005);
    expect(cpu.pstate()).toBe(0x800003c5);
  });

  it("BRK: EC 0x3C, ELR = the BRK itself", () => {
    const { cpu } = guest("nop\n brk #0x42");
    cpu.run(2);
    expect(esr(cpu)).toBe(0xf2000042);
    expect(elr(cpu)).toBe(BASE + 4);
  });

  it("UDF and HLT are UNDEFINED: EC 0, IL 1, ELR = the instruction", () => {
    const { cpu } = guest("udf #7");
    cpu.run(1);
    expect([cpu.pc, esr(cpu), elr(cpu)]).toEqual([VBAR + 0x200, 0x02000000, BASE]);
    const g = guest("hlt #1");
    g.cpu.run(1);
    expect(esr(g.cpu)).toBe(0x02000000);
  });

  it("from EL1t the vector is VBAR + 0x000; from EL0 it is VBAR + 0x400", () => {
    const t = guest("msr spsel, #0\n svc #1");
    t.cpu.run(2);
    expect(t.cpu.pc).toBe(VBAR);
    expect(spsr(t.cpu) & 0xf).toBe(4);
    // ERET to EL0t at `user`, which makes an SVC.
    const u = guest("adr x0, user\n msr elr_el1, x0\n msr spsr_el1, xzr\n eret\n user: svc #2");
    u.cpu.run(5);
    expect(u.cpu.pc).toBe(VBAR + 0x400);
    expect(esr(u.cpu)).toBe(0x56000002);
    expect(elr(u.cpu)).toBe(BASE + 20);
    expect(spsr(u.cpu)).toBe(0);
  });

  it("ERET restores NZCV, DAIF, EL and SP selection from SPSR_EL1 and branches to ELR_EL1", () => {
    const { cpu } = guest(
      "mov x1, #0x1000\n mov sp, x1\n msr spsel, #0\n mov x2, #0x2000\n mov sp, x2\n msr spsel, #1\n" +
        "adr x0, there\n msr elr_el1, x0\n movz x3, #0x6000, lsl #16\n movk x3, #0x0344\n msr spsr_el1, x3\n eret\n nop\n there: nop",
    );
    runTo(cpu, BASE + 52);
    expect(cpu.pc).toBe(BASE + 52);
    expect(cpu.pstate()).toBe(0x60000344); // Z C, D A F masked, EL1t
    expect(cpu.sp).toBe(0x2000); // SP_EL0
    expect(cpu.bankedSp(1)).toEqual([0x1000, 0]);
  });

  it("an illegal exception return (to EL2) takes an Illegal Execution State exception with SPSR.IL set", () => {
    const { cpu } = guest("adr x0, t\n msr elr_el1, x0\n mov x1, #9\n msr spsr_el1, x1\n eret\n t: nop");
    cpu.run(5);
    expect(esr(cpu)).toBe(0x3a000000);
    expect(elr(cpu)).toBe(BASE + 20);
    expect(spsr(cpu) & (1 << 20)).toBe(1 << 20);
  });

  it("MMU off: an unaligned load or store takes an alignment fault at EL1 (ESR 0x96000021 / 0x96000061, FAR = VA)", () => {
    const ld = guest("movz x1, #0x4000, lsl #16\n add x1, x1, #0x201\n ldr x0, [x1]");
    ld.cpu.run(3);
    expect([esr(ld.cpu), far(ld.cpu), elr(ld.cpu)]).toEqual([0x96000021, BASE + 0x201, BASE + 8]);
    const st = guest("movz x1, #0x4000, lsl #16\n add x1, x1, #0x202\n str w0, [x1]");
    st.cpu.run(3);
    expect([esr(st.cpu), far(st.cpu)]).toEqual([0x96000061, BASE + 0x202]);
    // A byte access is always aligned; a halfword at an odd address is not.
    const h = guest("movz x1, #0x4000, lsl #16\n add x1, x1, #0x203\n ldrb w0, [x1]\n ldrh w0, [x1]");
    h.cpu.run(4);
    expect([esr(h.cpu), elr(h.cpu)]).toEqual([0x96000021, BASE + 12]);
  });

  it("from EL0 an alignment fault is EC 0x24 (0x92000021) at VBAR + 0x400", () => {
    const { cpu } = guest(
      "adr x0, user\n msr elr_el1, x0\n msr spsr_el1, xzr\n movz x1, #0x4000, lsl #16\n add x1, x1, #0x204\n eret\n user: ldr x2, [x1]",
    );
    cpu.run(7);
    expect([cpu.pc, esr(cpu), far(cpu)]).toEqual([VBAR + 0x400, 0x92000021, BASE + 0x204]);
  });

  it("a branch to a misaligned address takes a PC alignment fault (EC 0x22) with FAR = ELR = the target", () => {
    const { cpu } = guest("movz x0, #0x4000, lsl #16\n add x0, x0, #0x102\n br x0");
    cpu.run(3);
    expect([esr(cpu), elr(cpu), far(cpu)]).toEqual([0x8a000000, BASE + 0x102, BASE + 0x102]);
  });

  it("a vector beyond PARange loops taking instruction aborts at it (ELR = its exact address), as hardware does", () => {
    const { cpu } = guest("movz x0, #0xffff, lsl #48\n msr vbar_el1, x0\n svc #0");
    expect(() => cpu.run(100)).not.toThrow();
    expect([esr(cpu), cpu.sysHi(SYS.ELR_EL1) >>> 0, cpu.sysLo(SYS.ELR_EL1)]).toEqual([
      0x86000000, 0xffff0000, 0x200,
    ]);
    expect(cpu.icount).toBe(3);
  });

  it("an SP-based access with SP not 16-aligned takes an SP alignment fault (SCTLR_EL1.SA, EC 0x26)", () => {
    const { cpu } = guest("movz x0, #0x4000, lsl #16\n add x0, x0, #0x208\n mov sp, x0\n ldr x1, [sp]");
    cpu.run(4);
    expect([esr(cpu), elr(cpu)]).toEqual([0x9a000000, BASE + 12]);
  });

  it("with CPACR_EL1.FPEN = 0 (Xen's reset value) an FP/SIMD instruction traps to EL1 with EC 0x07", () => {
    const { cpu } = guest("fmov d0, x1");
    cpu.run(1);
    expect([esr(cpu), elr(cpu)]).toEqual([0x1fe00000, BASE]);
    const ok = guest("mov x0, #3 << 20\n msr cpacr_el1, x0\n mov x1, #5\n fmov d0, x1");
    ok.cpu.run(4);
    expect(ok.cpu.vreg[0]).toBe(5);
    expect(ok.cpu.pc).toBe(BASE + 16);
  });

  it("LSE atomics are UNDEFINED on an Armv8.0 Cortex-A57, CRC32 is not", () => {
    const { cpu } = guest("movz x1, #0x4000, lsl #16\n ldadd x0, x2, [x1]", { core: CORTEX_A57 });
    cpu.run(2);
    expect([esr(cpu), elr(cpu)]).toEqual([0x02000000, BASE + 4]);
    const crc = guest("crc32x w0, w1, x2", { core: CORTEX_A57 });
    crc.cpu.run(1);
    expect(crc.cpu.pc).toBe(BASE + 4);
  });
});

describe.skipIf(missing !== undefined)("A64 exits to EL2 (the trap interface)", () => {
  it("HVC #imm from EL1: ESR_EL2 EC 0x16 with the immediate, PC = the next instruction", () => {
    const { cpu, exits } = guest("hvc #0xea1");
    cpu.run(10);
    expect(exits).toEqual([{ kind: "hvc", imm: 0xea1, esr: 0x5a000ea1 }]);
    expect(cpu.pc).toBe(BASE + 4);
  });

  it("HVC and SMC from EL0 are UNDEFINED at EL1", () => {
    const { cpu, exits } = guest("adr x0, user\n msr elr_el1, x0\n msr spsr_el1, xzr\n eret\n user: hvc #0");
    cpu.run(5);
    expect(exits).toEqual([]);
    expect([cpu.pc, esr(cpu)]).toEqual([VBAR + 0x400, 0x02000000]);
  });

  it("SMC trapped by HCR_EL2.TSC: EC 0x17, PC = the SMC", () => {
    const { cpu, exits } = guest("nop\n smc #0");
    cpu.run(10);
    expect(exits).toEqual([{ kind: "smc", imm: 0, esr: 0x5e000000 }]);
    expect(cpu.pc).toBe(BASE + 4);
  });

  it("WFI and WFE trapped by TWI/TWE: EC 0x01 with CV = 1, COND = 0xE and TI, PC = the WFx", () => {
    const a = guest("wfi");
    a.cpu.run(10);
    expect(a.exits).toEqual([{ kind: "wfi", esr: 0x07e00000 }]);
    expect(a.cpu.pc).toBe(BASE);
    const b = guest("wfe");
    b.cpu.run(10);
    expect(b.exits).toEqual([{ kind: "wfe", esr: 0x07e00001 }]);
  });

  it("MRS of an ID group-3 register is trapped by TID3 with the EC 0x18 syndrome", () => {
    const { cpu, exits } = guest("mrs x5, id_aa64pfr0_el1");
    cpu.run(10);
    // Op0 3, Op2 0, Op1 0, CRn 0, Rt 5, CRm 4, read.
    expect(exits[0]!.esr).toBe((0x62000000 | (3 << 20) | (5 << 5) | (4 << 1) | 1) >>> 0);
    expect(exits[0]!.sys).toMatchObject({ op0: 3, op1: 0, crn: 0, crm: 4, op2: 0, rt: 5, read: true });
    expect(cpu.pc).toBe(BASE);
  });

  it("MIDR, MPIDR, CTR and DCZID read the core's values without a trap", () => {
    const { cpu, exits } = guest(
      "mrs x0, midr_el1\n mrs x1, ctr_el0\n mrs x2, dczid_el0\n mrs x3, currentel",
      {
        core: CORTEX_A57,
      },
    );
    cpu.run(4);
    expect(exits).toEqual([]);
    expect([cpu.x(0), cpu.x(1), cpu.x(2), cpu.x(3)]).toEqual([0x411fd073, 0x8444c004, 4, 4]);
  });

  it("a load from an unmapped IPA is a stage-2 data abort with ISV, SAS, SRT and SF for a single-register load", () => {
    const { cpu, exits } = guest("movz x1, #0x5000, lsl #16\n ldr x3, [x1, #8]");
    cpu.run(10);
    const a = exits[0]!.abort!;
    expect(a.kind).toBe("translation");
    expect(a.ipa).toBe(0x5000_0008);
    expect(a.far).toBe(0x5000_0008);
    expect(a.hpfar).toBe(0x50000 * 16);
    // EC 0x24, IL, ISV, SAS = 3, SRT = 3, SF, WnR = 0, DFSC = translation at the walk's level.
    expect((a.esr & ~0x3f) >>> 0).toBe((0x92000000 | (1 << 24) | (3 << 22) | (3 << 16) | (1 << 15)) >>> 0);
    expect(a.esr & 0x3c).toBe(0x04);
    expect(cpu.pc).toBe(BASE + 4);
    expect(cpu.x(3)).toBe(0);
  });

  it("a pair store to an unmapped IPA aborts with ISV = 0 and WnR = 1; the base register is not written back", () => {
    const { cpu, exits } = guest("movz x1, #0x5000, lsl #16\n stp x2, x3, [x1, #16]!");
    cpu.run(10);
    const a = exits[0]!.abort!;
    expect(a.esr & 0x1ffffc0).toBe(0x40);
    expect(a.access).toBe("write");
    expect(cpu.x(1)).toBe(0x5000_0000);
  });

  it("fetching from a foreign (XN) mapping is a stage-2 permission fault on the instruction fetch", () => {
    const { cpu, exits } = guest("movz x0, #0x4001, lsl #16\n br x0");
    cpu.run(10);
    const a = exits[0]!.abort!;
    expect(a.access).toBe("exec");
    expect(a.kind).toBe("permission");
    expect(a.esr >>> 26).toBe(0x20);
    expect(a.far).toBe(BASE + 0x10000);
    expect(cpu.pc).toBe(BASE + 0x10000);
  });

  it("the hypervisor can inject the abort back (Xen's inject_dabt64_exception)", () => {
    const { cpu } = guest("movz x1, #0x5000, lsl #16\n ldr x3, [x1]");
    cpu.traps = {
      ...cpu.traps,
      stage2Abort: (c, a) => c.injectDataAbort(0x96000000, a.far),
    };
    cpu.run(2);
    expect([cpu.pc, esr(cpu), far(cpu), elr(cpu)]).toEqual([VBAR + 0x200, 0x96000000, 0x5000_0000, BASE + 4]);
  });
});

describe.skipIf(missing !== undefined)("A64 code fetch", () => {
  it("a store to the code page is executed at once (self-modifying code needs no invalidation)", () => {
    // Overwrite `slot` with MOVZ X0, #42 (0xd2800540), then fall into it.
    const { cpu } = guest(
      "ldr w1, insn\n adr x2, slot\n str w1, [x2]\n slot: mov x0, #1\n b .\n insn: .word 0xd2800540",
    );
    cpu.run(5);
    expect(cpu.x(0)).toBe(42);
  });

  it("a stage-2 unmap of the code page is seen at the next run (the vCPU's synchronisation point)", () => {
    const { cpu, exits, p2m } = guest("1: add x0, x0, #1\n b 1b");
    cpu.run(100);
    expect(cpu.x(0)).toBe(50);
    p2m.removeMapping(BASE / 4096, 1);
    cpu.run(100);
    expect(exits.map((e) => [e.kind, e.abort?.access, e.abort?.kind])).toEqual([
      ["abort", "exec", "translation"],
    ]);
    expect(cpu.x(0)).toBe(50);
  });
});

describe.skipIf(missing !== undefined)("A64 stops: never a silent wrong result", () => {
  it("an unimplemented instruction stops the vCPU naming the domain, encoding, class and PC", () => {
    const { cpu } = guest("mov x0, #3 << 20\n msr cpacr_el1, x0\n fadd d0, d1, d2");
    expect(cpu.run(10)).toBe(RUN_STOPPED);
    expect(cpu.stopped).toBe(
      "d1: unimplemented A64 instruction 0x1e622820 (FP data processing) at 0x40000008",
    );
    expect(cpu.pc).toBe(BASE + 8);
    expect(cpu.icount).toBe(2);
  });

  it("a SIMD instruction outside the moves is named as SIMD", () => {
    const { cpu } = guest("mov x0, #3 << 20\n msr cpacr_el1, x0\n add v0.4s, v1.4s, v2.4s");
    cpu.run(10);
    expect(cpu.stopped).toBe("d1: unimplemented A64 instruction 0x4ea28420 (SIMD) at 0x40000008");
  });

  it("setting SCTLR_EL1.M stops the vCPU until the stage-1 MMU exists", () => {
    const { cpu } = guest("mrs x0, sctlr_el1\n orr x0, x0, #1\n msr sctlr_el1, x0");
    expect(cpu.run(10)).toBe(RUN_STOPPED);
    expect(cpu.stopped).toBe("d1: SCTLR_EL1.M = 1 (stage-1 MMU) is not implemented yet at 0x40000008");
  });

  it("random instruction words never throw a foreign exception", () => {
    const { cpu: first, v } = guest("nop");
    let x = 12345;
    const words = new Uint32Array(64);
    for (let k = 0; k < 300; k++) {
      for (let i = 0; i < 64; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      v.writeBytes(BASE, new Uint8Array(words.buffer));
      v.writeBytes(VBAR, new Uint8Array(0x800)); // vectors of UDF #0: exceptions loop there
      const cpu = new A64Cpu(v, first.host, {
        name: "d1",
        core: k % 2 === 0 ? MAX_CORE : CORTEX_A57,
        traps: first.traps,
      });
      cpu.pc = BASE;
      cpu.setSys(SYS.VBAR_EL1, VBAR, 0);
      expect(() => cpu.run(200)).not.toThrow();
    }
  });
});

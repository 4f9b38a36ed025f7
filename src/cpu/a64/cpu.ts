/**
 * The A64 vCPU: architectural state at EL1/EL0, the fetch-decode-dispatch loop, exception entry
 * (AArch64.TakeException) and the data-access helpers every load/store handler goes through.
 *
 * Registers: X0..X30 as int32 halves in one Int32Array `r` (slot 2n = bits 31:0, 2n+1 = bits
 * 63:32). Slot 31 reads as zero (XZR) and is never written; slot 32 is the current stack pointer;
 * slot 33 takes writes to XZR. Handlers map a register field to a slot with the RD/RN tables
 * below, so "31 means SP or XZR" is decided once by the encoding, as the Arm ARM specifies it.
 *
 * Dispatch: a fetched word is looked up in a direct-mapped decode cache (tag = the word, value =
 * the handler's index in the encoding table), so a word is decoded once whatever its address and
 * self-modifying code needs no invalidation; the handler is called from one call site through an
 * array of functions. Memory: every fetch, load and store goes through the stage-2 translator
 * (src/p2m Vcpu); atomics use `Atomics` on the host buffers the translator resolved (see atomic()).
 */

import {
  esrDataAbort,
  esrInstructionAbort,
  hpfarFor,
  isStage2Fault,
  type Stage2Fault,
} from "../../p2m/index.js";
import type { HostMemory } from "../../pagealloc/index.js";
import {
  EC_DABT_LOWER,
  EC_DABT_SAME,
  EC_FP_ACCESS,
  EC_IABT_LOWER,
  EC_IABT_SAME,
  EC_PC_ALIGN,
  EC_SP_ALIGN,
  EC_UNKNOWN,
} from "./arch.js";
import type { CoreModel } from "./core-model.js";
import { MAX_CORE } from "./core-model.js";
import { DECODE_HANDLERS, dataAbortSyndrome, decodeWord, type InsnClass } from "./decode.js";
import { B, B_cond, CBZ } from "./insn/branch.js";
import { ADD_i, ADD_r, ADDS_i, LOGIC_r, SUB_i, SUBS_i, SUBS_r } from "./insn/dp.js";
import { LDR_w_ui, LDR_x_post, LDR_x_ui, STR_w_ui, STR_x_post, STR_x_ui } from "./insn/ldst.js";
import { SYS } from "./sysregs.js";
import { STOP_ON_TRAP, type VcpuTraps } from "./traps.js";

/** The translator's interface as the vCPU uses it (src/p2m Vcpu implements it). */
export interface GuestMemory {
  fetch32(ipa: number): number;
  read8(ipa: number): number;
  read16(ipa: number): number;
  read32(ipa: number): number;
  write8(ipa: number, v: number): void;
  write16(ipa: number, v: number): void;
  write32(ipa: number, v: number): void;
  /** Host physical address of ipa for the access, faulting (throwing Stage2Fault) as a load or store would. */
  translate(ipa: number, access: "read" | "write" | "exec"): number;
  /** Synchronisation point (DSB): see remote TLB flushes. */
  sync(): boolean;
}

const IL = 1 << 25;

/** Why run() returned. */
export const RUN_BUDGET = 0;
export const RUN_STOPPED = 1;
export const RUN_HALTED = 2;

const DECODE_BITS = 16;
const TWO32 = 4294967296;

export interface A64CpuOptions {
  /** Name used in error messages, e.g. "d1" or "d1v0". */
  readonly name?: string;
  readonly core?: CoreModel;
  readonly traps?: VcpuTraps;
  /** CNTFRQ_EL0 (Hz); the counter ticks with real time at this frequency. */
  readonly cntfrq?: number;
  /**
   * Trap controls Xen sets in HCR_EL2/MDCR_EL2 for a domU (get_default_hcr_flags): TWI, TWE,
   * TSC, TID3, TAC, TIDCP, TSW and the debug/PMU traps. Default: Xen's.
   */
  readonly hcr?: Partial<HcrTraps>;
}

export interface HcrTraps {
  twi: boolean;
  twe: boolean;
  tsc: boolean;
  tid3: boolean;
  tac: boolean;
  tidcp: boolean;
  tsw: boolean;
  /** MDCR_EL2.TDA/TDOSA/TDRA and TPM: debug and PMU register accesses trap. */
  tda: boolean;
}

const XEN_HCR: HcrTraps = {
  twi: true,
  twe: true,
  tsc: true,
  tid3: true,
  tac: true,
  tidcp: true,
  tsw: true,
  tda: true,
};

export class A64Cpu {
  readonly name: string;
  readonly core: CoreModel;
  readonly mem: GuestMemory;
  readonly host: HostMemory;
  traps: VcpuTraps;
  readonly hcr: HcrTraps;
  /** X registers and SP (see the file comment). */
  readonly r = new Int32Array(68);
  /** V0..V31, 128 bits each as 4 words (V[n] word k = bits 32k+31:32k). */
  readonly vreg = new Int32Array(128);
  /** Address of the next instruction to execute (< 2^paBits). */
  pc = 0;
  // PSTATE
  nf = 0;
  zf = 0;
  cf = 0;
  vf = 0;
  /** PSTATE.D A I F as bits 3..0 (DAIF register bits 9..6). */
  daif = 0xf;
  el = 1;
  spsel = 1;
  /** Banked stack pointers: [SP_EL0 lo, hi, SP_EL1 lo, hi] (the current one lives in r[64..65]). */
  readonly spBank = new Int32Array(4);
  /** System registers backed by storage, 2 words each, indexed by SYS.* ids. */
  readonly sys = new Int32Array(2 * 64);
  fpcr = 0;
  fpsr = 0;
  /** Exclusive monitor: the address and size (bytes) of the last load-exclusive, -1 if clear. */
  exAddr = -1;
  exSize = 0;
  /** The values the load-exclusive read (up to 4 words, for pairs). */
  readonly exVal = new Int32Array(4);
  /** Instructions retired. */
  icount = 0;
  /** Non-zero makes run() return after the current instruction (stop, trap asked to leave). */
  halt = 0;
  /** Set by stop(): the error that ended this vCPU. */
  stopped: string | undefined = undefined;
  /** The exact PC while it is parked at paLimit (a vector beyond PARange, see takeException). */
  private outLo = 0;
  private outHi = 0;
  /** 2^paBits: instruction and data addresses at or above it take an address size fault. */
  readonly paLimit: number;
  /** Data address bits 63:32 above PARange must be zero: hi >>> paHiShift === 0. */
  readonly paHiShift: number;
  readonly cntfrq: number;
  private readonly counterOrigin = performance.now();
  /** The code page cache: IPA of the page (-1: none), its host words and their index. */
  private fBase = -1;
  private fU32: Uint32Array = new Uint32Array(new SharedArrayBuffer(4096));
  private fWord = 0;
  private readonly decTag = new Int32Array(1 << DECODE_BITS);
  private readonly decIdx = new Uint16Array(1 << DECODE_BITS);
  /** Atomics views per host chunk (filled on first atomic access to the chunk). */
  private readonly atomViews: (AtomicViews | undefined)[] = [];

  constructor(mem: GuestMemory, host: HostMemory, opts: A64CpuOptions = {}) {
    this.mem = mem;
    this.host = host;
    this.name = opts.name ?? "d?";
    this.core = opts.core ?? MAX_CORE;
    this.traps = opts.traps ?? STOP_ON_TRAP;
    this.hcr = { ...XEN_HCR, ...opts.hcr };
    this.cntfrq = opts.cntfrq ?? 62_500_000;
    this.paLimit = 2 ** this.core.paBits;
    this.paHiShift = this.core.paBits - 32;
    // SCTLR_EL1 reset as Xen programs it for a domU (SCTLR_GUEST_INIT, xen-guest-abi §3).
    this.sys[2 * SYS.SCTLR_EL1] = 0x00c50078;
  }

  // ---- the loop ----

  /** Execute up to `budget` instructions; returns RUN_BUDGET, RUN_STOPPED or RUN_HALTED. */
  run(budget: number): number {
    if (this.stopped !== undefined) return RUN_STOPPED;
    this.halt = 0;
    if (this.mem.sync()) this.fBase = -1;
    const n = this.loop(budget); // before reading icount: a stop inside adjusts it
    this.icount += n;
    if (this.stopped !== undefined) return RUN_STOPPED;
    return this.halt !== 0 ? RUN_HALTED : RUN_BUDGET;
  }

  /**
   * The interpreter loop, on its own so that V8 optimises it with nothing after the loop whose
   * type feedback it lacks (code after an OSR'd loop otherwise deoptimises on every return).
   * Returns the instructions retired.
   */
  private loop(budget: number): number {
    const tag = this.decTag;
    const idx = this.decIdx;
    const H = DECODE_HANDLERS;
    let n = 0;
    let pc = 0;
    try {
      while (n < budget) {
        n++; // counted now, so a fault in the fetch or in the handler un-counts the same way
        pc = this.pc;
        // The current code page's host words (see fetchPage); any other PC takes the translator.
        const off = pc - this.fBase;
        const w = (off >= 0 && off < 4096 ? this.fU32[this.fWord + (off >>> 2)]! : this.fetchPage(pc)) | 0;
        const h = Math.imul(w, 0x9e3779b1) >>> (32 - DECODE_BITS);
        let k = idx[h]!;
        if (tag[h] !== w || k === 0) k = this.decode(w, h);
        this.pc = pc + 4;
        switch (k) {
          case 3:
            LDR_x_ui(this, w);
            break;
          case 4:
            STR_x_ui(this, w);
            break;
          case 5:
            LDR_w_ui(this, w);
            break;
          case 6:
            STR_w_ui(this, w);
            break;
          case 7:
            STR_x_post(this, w);
            break;
          case 8:
            LDR_x_post(this, w);
            break;
          case 9:
            ADD_i(this, w);
            break;
          case 10:
            ADDS_i(this, w);
            break;
          case 11:
            SUB_i(this, w);
            break;
          case 12:
            SUBS_i(this, w);
            break;
          case 13:
            B_cond(this, w);
            break;
          case 14:
            ADD_r(this, w);
            break;
          case 15:
            SUBS_r(this, w);
            break;
          case 16:
            LOGIC_r(this, w);
            break;
          case 17:
            B(this, w);
            break;
          case 19:
            CBZ(this, w);
            break;
          default:
            H[k]!(this, w);
        }
        if (this.halt !== 0) break;
      }
    } catch (e) {
      return n - 1 + this.faulted(e, pc);
    }
    return n;
  }

  private decode(w: number, h: number): number {
    const k = decodeWord(w, this.core);
    this.decTag[h] = w;
    this.decIdx[h] = k;
    return k;
  }

  /** A throw out of an instruction: a stage-2 fault (returns 0) or a bug in sshm (rethrown). */
  private faulted(e: unknown, pc: number): number {
    if (!isStage2Fault(e)) throw e;
    this.pc = pc; // the faulting instruction did not retire
    this.stage2Fault(e, pc);
    return 0;
  }

  /**
   * Fetch the word at pc through the translator (exec permission, stage-2 faults) and remember
   * its page's host words, so the next fetches from the page are one array read. The page cache
   * is dropped at the vCPU's synchronisation points — run() entry, DSB, ISB — which is where a
   * stage-2 change made by another thread (TLBI + DSB on the hypervisor's side) is seen, exactly
   * as for the translator's own TLB. The words are read from host memory each time, so a store to
   * the code page (self-modifying code, a loader) is seen at once.
   */
  fetchPage(pc: number): number {
    const w = this.mem.fetch32(pc);
    const page = pc - (pc % 4096);
    const pa = this.mem.translate(page, "exec");
    const loc = this.host.locate(pa, 4096);
    this.fU32 = this.host.chunkU32(loc.chunk);
    this.fWord = loc.offset / 4;
    this.fBase = page;
    return w;
  }

  /** Drop the code-page cache (synchronisation points). */
  dropFetchPage(): void {
    this.fBase = -1;
  }

  /** Stop this vCPU for good with an error naming it (unimplemented instruction, MMU on, ...). */
  stop(message: string): void {
    if (this.stopped === undefined) this.stopped = `${this.name}: ${message}`;
    this.halt = 1;
  }

  /** Stop at the current instruction (PC back on it) with `message` and the PC. */
  stopAt(_w: number, message: string): void {
    this.pc -= 4;
    this.icount--; // the instruction did not retire (run() counted it)
    this.stop(`${message} at 0x${this.pc.toString(16)}`);
  }

  /** An instruction sshm does not implement: stop, never execute a guess. */
  unimplemented(w: number, cls: InsnClass | string): void {
    this.stop(`unimplemented A64 instruction 0x${hex8(w)} (${cls}) at 0x${(this.pc - 4).toString(16)}`);
    this.pc -= 4;
    this.icount--; // the instruction did not retire (run() counted it)
  }

  // ---- registers ----

  xlo(n: number): number {
    return this.r[2 * n]!;
  }
  xhi(n: number): number {
    return this.r[2 * n + 1]!;
  }
  /** X[n] as a number (exact below 2^53; for tests, traces and the hypervisor's argument reads). */
  x(n: number): number {
    return (this.r[2 * n + 1]! >>> 0) * TWO32 + (this.r[2 * n]! >>> 0);
  }
  setX(n: number, lo: number, hi: number): void {
    if (n === 31) return;
    this.r[2 * n] = lo;
    this.r[2 * n + 1] = hi;
  }
  /** The current SP as a number. */
  get sp(): number {
    return (this.r[65]! >>> 0) * TWO32 + (this.r[64]! >>> 0);
  }
  setSp(lo: number, hi: number): void {
    this.r[64] = lo;
    this.r[65] = hi;
  }

  // ---- PSTATE ----

  /** PSTATE as SPSR_ELx holds it: NZCV 31:28, IL 20, DAIF 9:6, M[3:0] = EL:SP. */
  pstate(): number {
    return (
      ((this.nf << 31) |
        (this.zf << 30) |
        (this.cf << 29) |
        (this.vf << 28) |
        (this.daif << 6) |
        (this.el << 2) |
        this.spsel) >>>
      0
    );
  }

  setNzcv(nzcv: number): void {
    this.nf = (nzcv >>> 3) & 1;
    this.zf = (nzcv >>> 2) & 1;
    this.cf = (nzcv >>> 1) & 1;
    this.vf = nzcv & 1;
  }

  /** Change EL and SP selection, banking the stack pointer (SP_EL0 / SP_ELx). */
  selectSp(el: number, spsel: number): void {
    const from = this.el !== 0 && this.spsel !== 0 ? 2 : 0;
    this.spBank[from] = this.r[64]!;
    this.spBank[from + 1] = this.r[65]!;
    this.el = el;
    this.spsel = spsel;
    const to = el !== 0 && spsel !== 0 ? 2 : 0;
    this.r[64] = this.spBank[to]!;
    this.r[65] = this.spBank[to + 1]!;
  }

  /** Read SP_EL0 / SP_EL1 wherever they currently live. */
  bankedSp(el: number): [number, number] {
    const cur = this.el !== 0 && this.spsel !== 0 ? 1 : 0;
    if (cur === el) return [this.r[64]!, this.r[65]!];
    return [this.spBank[2 * el]!, this.spBank[2 * el + 1]!];
  }

  setBankedSp(el: number, lo: number, hi: number): void {
    const cur = this.el !== 0 && this.spsel !== 0 ? 1 : 0;
    if (cur === el) this.setSp(lo, hi);
    else {
      this.spBank[2 * el] = lo;
      this.spBank[2 * el + 1] = hi;
    }
  }

  sysLo(id: number): number {
    return this.sys[2 * id]!;
  }
  sysHi(id: number): number {
    return this.sys[2 * id + 1]!;
  }
  setSys(id: number, lo: number, hi: number): void {
    this.sys[2 * id] = lo;
    this.sys[2 * id + 1] = hi;
  }

  /** The virtual/physical count (CNTVCT_EL0, CNTPCT_EL0), ticking with real time at cntfrq. */
  counter(): number {
    return Math.floor(((performance.now() - this.counterOrigin) * this.cntfrq) / 1000);
  }

  // ---- exceptions taken to EL1 (AArch64.TakeException) ----

  /**
   * Take a synchronous exception to EL1: SPSR_EL1 = PSTATE, ELR_EL1 = preferred return address
   * (lo/hi), ESR_EL1 = EC:IL:ISS, FAR_EL1 when `far` is given; PSTATE.EL = 1, SP = SP_EL1,
   * DAIF masked; PC = VBAR_EL1 + offset (0x000 from EL1t, 0x200 from EL1h, 0x400 from EL0).
   */
  takeException(ec: number, iss: number, elrLo: number, elrHi: number, farLo?: number, farHi?: number): void {
    const offset = this.el === 0 ? 0x400 : this.spsel !== 0 ? 0x200 : 0;
    this.setSys(SYS.SPSR_EL1, this.pstate() | 0, 0);
    this.setSys(SYS.ELR_EL1, elrLo, elrHi);
    this.setSys(SYS.ESR_EL1, (ec << 26) | IL | (iss & 0x1ffffff) | 0, 0);
    if (farLo !== undefined) this.setSys(SYS.FAR_EL1, farLo, farHi ?? 0);
    this.selectSp(1, 1);
    this.daif = 0xf;
    this.exAddr = -1;
    // VBAR_EL1 bits 10:0 are RES0 and the offset is below 0x800: the halves are exact.
    const lo = (this.sysLo(SYS.VBAR_EL1) & ~0x7ff) | offset;
    const hi = this.sysHi(SYS.VBAR_EL1);
    if (hi >>> 0 < this.paLimit / TWO32) this.pc = (hi >>> 0) * TWO32 + (lo >>> 0);
    else {
      // A vector beyond PARange: its fetch takes an instruction abort to the same vector, for
      // ever, as on hardware. PC is parked at paLimit (whose fetch faults) with the exact address
      // kept for ELR/FAR; one exception per loop iteration, never a recursion.
      this.pc = this.paLimit;
      this.outLo = lo;
      this.outHi = hi;
    }
  }

  /** Exception at the current instruction (the handler already advanced PC by 4). */
  exceptionHere(ec: number, iss: number, far?: number): void {
    const pc = this.pc - 4;
    if (far === undefined) this.takeException(ec, iss, pc | 0, Math.floor(pc / TWO32));
    else this.takeException(ec, iss, pc | 0, Math.floor(pc / TWO32), far | 0, Math.floor(far / TWO32));
  }

  /** UNDEFINED instruction (EC 0x00). */
  undefined(): void {
    this.exceptionHere(EC_UNKNOWN, 0);
  }

  /** FP/SIMD access check (CPACR_EL1.FPEN, AArch64.CheckFPAdvSIMDEnabled): true = trapped. */
  fpTrap(): boolean {
    const fpen = (this.sysLo(SYS.CPACR_EL1) >>> 20) & 3;
    if (fpen === 3 || (fpen === 1 && this.el !== 0)) return false;
    // ISS for an AArch64 trap: CV = 1, COND = 0xE (QEMU syn_fp_access_trap(1, 0xe, false, 0)).
    this.exceptionHere(EC_FP_ACCESS, (1 << 24) | (0xe << 20));
    return true;
  }

  /** Data abort at EL1 without the hypervisor (alignment, stage-1 address size): ISV = 0. */
  dataAbortEl1(fsc: number, addrLo: number, addrHi: number, write: boolean): void {
    const pc = this.pc - 4;
    this.takeException(
      this.el === 0 ? EC_DABT_LOWER : EC_DABT_SAME,
      fsc | (write ? 0x40 : 0),
      pc | 0,
      Math.floor(pc / TWO32),
      addrLo,
      addrHi,
    );
  }

  /**
   * Set PC from a register value (BR, BLR, RET, ERET). A target that is misaligned or beyond
   * PARange takes its PC alignment fault / stage-1 address size fault (instruction abort, IFSC 0)
   * now, with ELR = FAR = the exact target: the same exception the fetch would take, since no
   * other instruction can run in between.
   */
  branchToReg(lo: number, hi: number): void {
    if ((lo & 3) !== 0) {
      this.takeException(EC_PC_ALIGN, 0, lo, hi, lo, hi);
    } else if (hi >>> 0 >= this.paLimit / TWO32) {
      this.takeException(this.el === 0 ? EC_IABT_LOWER : EC_IABT_SAME, 0, lo, hi, lo, hi);
    } else {
      this.pc = (hi >>> 0) * TWO32 + (lo >>> 0);
    }
  }

  /** Set PC to an address computed as a number (immediate branches, vectors); wraps mod 2^64. */
  branchTo(target: number): void {
    if (target >= 0 && target < this.paLimit) {
      this.pc = target;
      return;
    }
    const t = target < 0 ? target + 2 ** 64 : target;
    // Below 2^64 and a multiple of 4: the halves of t are exact when t < 2^53; above that only
    // negative targets (small magnitudes) reach here, whose two's complement halves we form directly.
    if (target < 0) {
      const m = -target;
      const lo = -(m % TWO32) | 0;
      const hi = ~Math.floor(m / TWO32) + (m % TWO32 === 0 ? 1 : 0);
      this.branchToReg(lo, hi | 0);
    } else this.branchToReg((t % TWO32) | 0, Math.floor(t / TWO32) | 0);
  }

  // ---- data access (called by the load/store handlers) ----

  /**
   * The address of an access of `size` bytes at lo/hi as a number, or -1 when the access took an
   * exception at EL1: stage-1 address size fault (the MMU is off, so any address at or above
   * PARange faults) or alignment fault (with SCTLR_EL1.M = 0 every data access is Device-nGnRnE,
   * for which any unaligned access faults).
   */
  dataAddr(lo: number, hi: number, size: number, write: boolean): number {
    if (hi !== 0 && hi >>> this.paHiShift !== 0) {
      this.dataAbortEl1(0x00, lo, hi, write);
      return -1;
    }
    if ((lo & (size - 1)) !== 0) {
      this.dataAbortEl1(0x21, lo, hi, write);
      return -1;
    }
    return (hi >>> 0) * TWO32 + (lo >>> 0);
  }

  /** Check SP alignment for an SP-based access (SCTLR_EL1.SA / SA0): true = faulted. */
  spAlignFault(): boolean {
    const sctlr = this.sysLo(SYS.SCTLR_EL1);
    const check = this.el === 0 ? (sctlr >>> 4) & 1 : (sctlr >>> 3) & 1;
    if (check !== 0 && (this.r[64]! & 15) !== 0) {
      this.exceptionHere(EC_SP_ALIGN, 0);
      return true;
    }
    return false;
  }

  /** Host views for Atomics on the buffer holding host PA `pa`, and the byte offset in it. */
  atomic(ipa: number, size: number, write: boolean): AtomicViews {
    const pa = this.mem.translate(ipa, write ? "write" : "read");
    // No result object: an exclusive or LSE loop is per access (hot-path rule).
    const chunk = this.host.locateChunk(pa, size);
    let v = this.atomViews[chunk];
    if (v === undefined) {
      const u8 = this.host.chunkU8(chunk);
      const buf = u8.buffer;
      v = {
        i8: new Int8Array(buf, u8.byteOffset, u8.length),
        i16: new Int16Array(buf, u8.byteOffset, u8.length >>> 1),
        i32: new Int32Array(buf, u8.byteOffset, u8.length >>> 2),
        i64: new BigInt64Array(buf, u8.byteOffset, u8.length >>> 3),
        off: 0,
      };
      this.atomViews[chunk] = v;
    }
    v.off = pa - this.host.chunkOrigin(chunk);
    return v;
  }

  // ---- stage-2 faults (from the translator) ----

  private stage2Fault(f: Stage2Fault, pc: number): void {
    const ipa = f.ipa;
    if (f.access === "exec") {
      if (pc >= this.paLimit) {
        // Beyond PARange with the MMU off: stage-1 address size fault at EL1, no hypervisor.
        const lo = pc === this.paLimit ? this.outLo : (pc % TWO32) | 0;
        const hi = pc === this.paLimit ? this.outHi : Math.floor(pc / TWO32);
        this.takeException(this.el === 0 ? EC_IABT_LOWER : EC_IABT_SAME, 0, lo, hi, lo, hi);
        return;
      }
      const esr = esrInstructionAbort({ ifsc: f.fsc });
      this.traps.stage2Abort(this, {
        esr,
        far: pc,
        hpfar: hpfarFor(ipa),
        ipa,
        kind: f.kind,
        level: f.level,
        access: "exec",
      });
      return;
    }
    const w = this.mem === undefined ? 0 : this.lastWord(pc);
    const syn = dataAbortSyndrome(w);
    const esr = esrDataAbort({
      dfsc: f.fsc,
      wnr: f.access === "write" ? 1 : 0,
      ...(syn === undefined
        ? {}
        : { isv: true, sas: syn.sas, srt: syn.srt, sse: syn.sse, sf: syn.sf, ar: syn.ar }),
    });
    this.traps.stage2Abort(this, {
      esr,
      far: ipa,
      hpfar: hpfarFor(ipa),
      ipa,
      kind: f.kind,
      level: f.level,
      access: f.access,
    });
  }

  /** The instruction word at pc (it was fetched a moment ago, so this cannot fault). */
  private lastWord(pc: number): number {
    return this.mem.fetch32(pc) | 0;
  }

  // ---- the hypervisor's injection API (Xen's inject_*_exception build on these) ----

  /** Inject an UNDEFINED exception for the instruction at PC (ELR = PC). */
  injectUndef(): void {
    this.takeException(EC_UNKNOWN, 0, this.pc | 0, Math.floor(this.pc / TWO32));
  }

  /** Inject a data abort to EL1 with the given ESR_EL1 and FAR_EL1; ELR = PC. */
  injectDataAbort(esr: number, far: number): void {
    this.takeException(
      esr >>> 26,
      esr & 0x1ffffff,
      this.pc | 0,
      Math.floor(this.pc / TWO32),
      far | 0,
      Math.floor(far / TWO32),
    );
  }

  /** Inject an instruction abort to EL1 with the given ESR_EL1; ELR = FAR = PC. */
  injectInstructionAbort(esr: number): void {
    const lo = this.pc | 0;
    const hi = Math.floor(this.pc / TWO32);
    this.takeException(esr >>> 26, esr & 0x1ffffff, lo, hi, lo, hi);
  }
}

export interface AtomicViews {
  readonly i8: Int8Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  /** Byte offset of the access in the views. */
  off: number;
}

function hex8(w: number): string {
  return (w >>> 0).toString(16).padStart(8, "0");
}

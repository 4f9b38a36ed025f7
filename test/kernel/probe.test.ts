import { describe, expect, it } from "vitest";
import type { ModuleRange, ReadHost } from "../../src/kernel/index.js";
import {
  kernelProbe,
  PSR_GUEST64_INIT,
  SCTLR_GUEST_INIT,
  vcpuBootState,
  vmpidr,
  ZIMAGE64_MAGIC_V0,
  ZIMAGE64_MAGIC_V1,
} from "../../src/kernel/index.js";

const AT = 0xb100_0000n;

/** Host RAM holding `bytes` at AT (zeroes elsewhere). */
function host(bytes: Uint8Array): ReadHost {
  return (addr, len) => {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const o = Number(addr - AT) + i;
      out[i] = o >= 0 && o < bytes.length ? bytes[o]! : 0;
    }
    return out;
  };
}

function arm64Image(
  size: number,
  opts: { v0?: boolean; v1?: boolean; textOffset?: bigint } = {},
): Uint8Array {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (opts.v0 ?? true) dv.setUint32(0, ZIMAGE64_MAGIC_V0, true);
  dv.setBigUint64(8, opts.textOffset ?? 0n, true);
  dv.setBigUint64(16, 0x12345n, true); // image_size: ignored
  if (opts.v1 ?? true) dv.setUint32(0x38, ZIMAGE64_MAGIC_V1, true);
  return b;
}

function uImage(
  payload: number,
  h: { load?: number; ep?: number; arch?: number; comp?: number; size?: number },
) {
  const b = new Uint8Array(64 + payload);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x27051956);
  dv.setUint32(12, h.size ?? payload);
  dv.setUint32(16, h.load ?? 0);
  dv.setUint32(20, h.ep ?? 0);
  b[29] = h.arch ?? 22;
  b[63] = h.comp ?? 0;
  return b;
}

const mod = (b: Uint8Array): ModuleRange => ({ start: AT, size: BigInt(b.length) });
const probe = (b: Uint8Array, m: ModuleRange = mod(b)) => kernelProbe(m, undefined, host(b), "d1");
const LOADING = "Loading d1 kernel from boot module @ 00000000b1000000";

describe("kernel_probe: Xen's probe order and messages", () => {
  it("no kernel module, or one of size 0: Missing kernel boot module? (-ENOENT)", () => {
    expect(kernelProbe(undefined, undefined, host(new Uint8Array()), "d1")).toEqual({
      ok: false,
      rc: -2,
      log: ["Missing kernel boot module?"],
    });
    expect(probe(new Uint8Array(), { start: AT, size: 0n })).toMatchObject({ ok: false, rc: -2 });
  });

  it("nothing loaded (all zeroes in host RAM): every probe declines and kernel_probe returns -EINVAL silently", () => {
    expect(probe(new Uint8Array(0x80_0000))).toEqual({ ok: false, rc: -22, log: [LOADING] });
  });

  it("the ramdisk line follows the kernel line", () => {
    const b = arm64Image(0x1000);
    expect(kernelProbe(mod(b), { start: 0xb200_0000n, size: 0x5000n }, host(b), "d1").log).toEqual([
      LOADING,
      "Loading ramdisk from boot module @ 00000000b2000000",
    ]);
  });

  it("an arm64 Image: either magic is enough; text_offset kept, image_size ignored, the whole module copied", () => {
    for (const [v0, v1] of [
      [true, true],
      [true, false],
      [false, true],
    ] as const) {
      const r = probe(arm64Image(0x3800, { v0, v1, textOffset: 0x8_0000n }));
      expect(r).toEqual({
        ok: true,
        image: {
          format: "Image",
          is64: true,
          kernelAddr: AT,
          len: 0x3800n,
          textOffset: 0x8_0000n,
          start: 0n,
          entry: 0n,
        },
        log: [LOADING],
      });
    }
    expect(probe(arm64Image(0x3800, { v0: false, v1: false }))).toMatchObject({ ok: false, rc: -22 });
  });

  it("an Image shorter than its 64-byte header is not one", () => {
    expect(probe(arm64Image(64).subarray(0, 63))).toEqual({ ok: false, rc: -22, log: [LOADING] });
    expect(probe(arm64Image(64))).toMatchObject({ ok: true });
  });

  it("a 32-bit zImage (magic 0x016f2818 at 0x24): a 32-bit domain, start/end from the header", () => {
    const b = new Uint8Array(0x2000);
    const dv = new DataView(b.buffer);
    dv.setUint32(0x24, 0x016f2818, true);
    dv.setUint32(0x28, 0, true);
    dv.setUint32(0x2c, 0x1800, true);
    expect(probe(b)).toMatchObject({
      ok: true,
      image: { format: "zImage", is64: false, len: 0x1800n, start: 0n },
    });
    dv.setUint32(0x2c, 0x2001, true); // end - start > size
    expect(probe(b)).toMatchObject({ ok: false, rc: -22 });
  });

  it("uImage: an arm64 payload with a load address and entry point; text_offset is forced to 0", () => {
    const b = uImage(0x1000, { load: 0x4010_0000, ep: 0x4010_0800 });
    b.set(arm64Image(64, { textOffset: 0x8_0000n }), 64);
    expect(probe(b)).toEqual({
      ok: true,
      image: {
        format: "uImage",
        is64: true,
        kernelAddr: AT + 64n,
        len: 0x1000n,
        textOffset: 0n,
        start: 0x4010_0000n,
        entry: 0x4010_0800n,
      },
      log: [LOADING, "Provided load address: 0000000040100000 and entry address: 0000000040100800"],
    });
  });

  it("uImage failures, each with Xen's message and errno", () => {
    expect(probe(uImage(0x100, { comp: 3 }))).toEqual({
      ok: false,
      rc: -95,
      log: [LOADING, "Unsupported uImage compression type 3"],
    });
    expect(probe(uImage(0x100, { ep: 0x40 }))).toEqual({
      ok: false,
      rc: -22,
      log: [
        LOADING,
        "No load address provided. Xen will decide where to load it.",
        "Entry point cannot be non zero for PIE image.",
      ],
    });
    expect(probe(uImage(0x100, { arch: 5 }))).toEqual({
      ok: false,
      rc: -22,
      log: [
        LOADING,
        "No load address provided. Xen will decide where to load it.",
        "Unsupported uImage arch type 5",
      ],
    });
    // A size beyond the module: -EINVAL before any message.
    expect(probe(uImage(0x100, { size: 0x101 }))).toEqual({ ok: false, rc: -22, log: [LOADING] });
    // gzip requested but no gzip stream after the header: kernel_decompress's -EINVAL.
    expect(probe(uImage(0x100, { comp: 1 }))).toMatchObject({ ok: false, rc: -22 });
  });

  it("a gzip image is recognised (1f 8b / 1f 9e) and refused as unmodelled, not probed as something else", () => {
    for (const m of [0x8b, 0x9e]) {
      const r = probe(new Uint8Array([0x1f, m, 8, 0, ...new Uint8Array(100)]));
      expect(r).toMatchObject({ ok: false, rc: null, log: [LOADING] });
      expect(r.ok === false && r.rc === null && r.unmodelled).toMatch(/gzip-compressed/);
    }
  });

  it("random bytes never throw: each gives a result Xen could give", () => {
    let seed = 1;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let n = 0; n < 300; n++) {
      const b = Uint8Array.from({ length: (n * 37) % 200 }, rnd);
      if (n % 3 === 0 && b.length >= 64) new DataView(b.buffer).setUint32(0x38, ZIMAGE64_MAGIC_V1, true);
      const r = probe(b);
      if (r.ok) expect(r.image.len).toBe(r.image.format === "Image" ? BigInt(b.length) : r.image.len);
      else expect([null, -2, -22, -95]).toContain(r.rc);
    }
  });
});

describe("construct_domain's vCPU state", () => {
  it("vCPU 0: x0 = DTB, x1..x3 = 0, PC = entry, PSTATE 0x3c5, SCTLR 0x00c50078, MPIDR 0x80000000", () => {
    const v = vcpuBootState(0, 0x4000_0000n, 0x40e0_0000n);
    expect(v.x[0]).toBe(0x40e0_0000n);
    expect(v.x.slice(1)).toEqual(new Array(30).fill(0n));
    expect(v).toMatchObject({ pc: 0x4000_0000n, pstate: 0x3c5, online: true, aarch64: true, spEl1: 0n });
    expect(PSR_GUEST64_INIT).toBe(0x3c5);
    expect(v.sysregs.SCTLR_EL1).toBe(SCTLR_GUEST_INIT);
    expect(SCTLR_GUEST_INIT).toBe(0x00c5_0078n);
    expect(v.sysregs.MPIDR_EL1).toBe(0x8000_0000n);
    expect(v.sysregs.CPACR_EL1).toBe(0n); // FP traps until the guest sets FPEN
    expect(v.sysregs.VBAR_EL1).toBe(0n);
  });
  it("secondary vCPUs start offline with zeroed registers and their own MPIDR", () => {
    const v = vcpuBootState(1, 0x4000_0000n, 0x40e0_0000n);
    expect(v).toMatchObject({ online: false, pc: 0n, pstate: 0 });
    expect(v.x.every((r) => r === 0n)).toBe(true);
    expect([0, 1, 15, 16, 127].map(vmpidr)).toEqual([
      0x8000_0000n,
      0x8000_0001n,
      0x8000_000fn,
      0x8000_0100n,
      0x8000_070fn,
    ]);
  });
  it("an AArch32 guest: r0 = 0, r1 = ~0 (no machine id), r2 = DTB, CPSR Z|A|I|F|SVC", () => {
    const v = vcpuBootState(0, 0x40a0_0000n, 0x4080_0000n, false);
    expect(v.x.slice(0, 3)).toEqual([0n, 0xffff_ffffn, 0x4080_0000n]);
    expect(v.pstate).toBe(0x4000_01d3);
  });
});

/**
 * Hostile kernel images (issue 14, "random bytes as the kernel image"): whatever bytes sit at the
 * kernel module's address, booting gives Xen's verdict or sshm's "not modelled" error, never a
 * foreign exception, and writes nothing outside the domain's own RAM: a sentinel file in reserved
 * host RAM (free RAM would be Xen's heap, handed to the domain and scrubbed) and the module itself
 * are unchanged.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/index.js";
import { bootDom0less } from "../../src/domains/index.js";
import {
  UIMAGE_MAGIC,
  ZIMAGE32_MAGIC,
  ZIMAGE64_MAGIC_V0,
  ZIMAGE64_MAGIC_V1,
} from "../../src/kernel/index.js";

const KADDR = 0x4800_0000;
const KSIZE = 0x4000;
const SENTINEL = 0x4900_0000;

const HOST = `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x10000000>; };
  reserved-memory {
    #address-cells = <2>;
    #size-cells = <2>;
    ranges;
    sentinel@49000000 { reg = <0x0 ${SENTINEL} 0x0 0x10000>; };
  };
  chosen {
    #address-cells = <1>;
    #size-cells = <1>;
    domU1 {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 0x4000>;
      kernel@48000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <${KADDR} ${KSIZE}>; };
    };
  };
};
`;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Random bytes, sometimes with one of the magics the probes look for and a random header word. */
const kernelBytes = fc
  .tuple(
    fc.uint8Array({ minLength: 0, maxLength: KSIZE }),
    fc.constantFrom("none", "v0", "v1", "uimage", "zimage32", "gzip"),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.nat(),
  )
  .map(([raw, kind, word, n]) => {
    const b = new Uint8Array(Math.max(raw.length, 64));
    b.set(raw);
    const dv = new DataView(b.buffer);
    if (kind === "v0") dv.setUint32(0, ZIMAGE64_MAGIC_V0, true);
    if (kind === "v1") dv.setUint32(0x38, ZIMAGE64_MAGIC_V1, true);
    if (kind === "v0" || kind === "v1") dv.setBigUint64(8, n % 2 === 0 ? word : word % 0x200_0000n, true);
    if (kind === "uimage") {
      dv.setUint32(0, UIMAGE_MAGIC);
      dv.setUint32(12, n % (b.length + 16));
      b[29] = n % 3 === 0 ? 22 : n % 3 === 1 ? 2 : n & 0xff;
      b[63] = n % 5 === 0 ? 1 : n % 5 === 1 ? n & 0xff : 0;
    }
    if (kind === "zimage32") {
      dv.setUint32(0x24, ZIMAGE32_MAGIC, true);
      dv.setUint32(0x28, Number(word & 0xffffn), true);
      dv.setUint32(0x2c, n & 0xffff, true);
    }
    if (kind === "gzip") b.set([0x1f, 0x8b]);
    return b.subarray(0, Math.min(b.length, KSIZE));
  });

describe("hostile kernel images", () => {
  it("a verdict or an EUNMODELLED error, and no host byte outside the domain changes", () => {
    const sentinel = Uint8Array.from({ length: 0x10000 }, (_, i) => (i * 131) & 0xff);
    const sentinelHash = sha(sentinel);
    const seen = new Set<string>();
    fc.assert(
      fc.property(kernelBytes, (k) => {
        let result: ReturnType<typeof bootDom0less>;
        try {
          result = bootDom0less(HOST, {
            file: "fuzz.dts",
            hostImages: [
              { addr: KADDR, bytes: k, file: "kernel" },
              { addr: SENTINEL, bytes: sentinel, file: "sentinel" },
            ],
          });
        } catch (e) {
          expect(isSshmError(e) && e.code === "EUNMODELLED").toBe(true);
          seen.add("unmodelled");
          return;
        }
        const { report, system } = result;
        expect(["accepted", "rejected"]).toContain(report.verdict);
        seen.add(report.panic ?? report.verdict);
        if (!system) return;
        const mem = system.hv.machine.mem;
        expect(sha(mem.readBytes(SENTINEL, sentinel.length))).toBe(sentinelHash);
        expect(sha(mem.readBytes(KADDR, k.length))).toBe(sha(k));
        const kernel = system.domain("domU1").domUBoot?.kernel;
        // The DTB pointer: x0 for AArch64, r2 for an AArch32 guest.
        if (kernel) expect(kernel.vcpus[0]!.x[kernel.image.is64 ? 0 : 2]).toBe(kernel.placement.dtbAddr);
      }),
      { numRuns: 120 },
    );
    // The draw reaches the outcomes that matter: loaded, rejected by the probe, by the copy.
    expect(seen).toContain("accepted");
    expect(seen).toContain("unmodelled");
    expect(seen).toContain("Could not set up domain domU1 (rc = -22)");
    expect(seen).toContain("Unable to copy the kernel in the d1 memory");
  });
});

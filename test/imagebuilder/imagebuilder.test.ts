import { describe, expect, it } from "vitest";
import { bootDom0less } from "../../src/domains/index.js";
import { findNode, getProp, type loadDeviceTree, propCells, propStrings } from "../../src/fdt/index.js";
import {
  buildImageBuilderSystem,
  headerImageSize,
  LoadCursor,
  looksLikeImageBuilder,
  parseConfig,
} from "../../src/imagebuilder/index.js";

const FIX = "test/imagebuilder/fixtures";

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: bash's ${...} is the subject
describe("ImageBuilder config syntax (bash as uboot-script-gen sources it)", () => {
  it("reads assignments, arrays, quotes, escapes, comments, expansions and continuations", () => {
    const a = parseConfig(
      [
        "# a comment",
        "A=\"x y\" B='$z'; C[2]=c\\ d # trailing",
        'D="${A}-$C" E=${C[2]}',
        'F="one \\',
        'two"',
      ].join("\n"),
      "t.cfg",
    );
    expect(a.map((x) => [x.name, x.index, x.value, x.line, x.column])).toEqual([
      ["A", undefined, "x y", 2, 1],
      ["B", undefined, "$z", 2, 9],
      ["C", 2, "c d", 2, 17],
      // $C of an array without element 0 is empty, as in bash
      ["D", undefined, "x y-", 3, 1],
      ["E", undefined, "c d", 3, 13],
      ["F", undefined, "one two", 4, 1],
    ]);
  });

  it.each([
    [
      "A = 1",
      't.cfg:1:1: not an assignment: "A = 1" (an ImageBuilder config holds only NAME=value and NAME[i]=value lines; sshm cannot run shell commands)',
    ],
    ["A=`ls`", "t.cfg:1:3: command substitution cannot be evaluated by sshm"],
    ["A=$((1+1))", "t.cfg:1:3: command substitution and $((arithmetic)) cannot be evaluated by sshm"],
    [
      "A[i]=1",
      "t.cfg:1:1: A[i]: the index must be a decimal number (sshm does not evaluate bash arithmetic)",
    ],
    ["A=(1 2)", "t.cfg:1:1: A=( ... ): array literals are not supported, write A[0]=..."],
    ["A='x", "t.cfg:1:3: unterminated single-quoted string"],
    [
      "A=${B:-x}",
      "t.cfg:1:3: ${B:-x} is not a plain variable expansion; sshm only expands ${NAME} and ${NAME[i]}",
    ],
    [
      "A=1\r\nB=2",
      "t.cfg:1:4: carriage return (CRLF line endings?): bash reads it as part of the value, so ImageBuilder would see every value with a trailing \\r",
    ],
  ])("refuses %j", (text, message) => {
    expect(errorOf(() => parseConfig(text, "t.cfg"))).toBe(message);
  });

  it("tells an ImageBuilder config from an xl config by its NAME= assignments", () => {
    expect(looksLikeImageBuilder('MEMORY_START=0x0\nXEN="xen"\n')).toBe(true);
    expect(looksLikeImageBuilder('name = "vm1"\nmemory = 128\n')).toBe(false);
  });
});

// biome-ignore-end lint/suspicious/noTemplateCurlyInString: bash's ${...} is the subject
describe("load addresses (uboot-script-gen's memaddr, add_size, get_image_size)", () => {
  it("starts 2 MiB above MEMORY_START + 2 MiB, never below 0xC00000 for the script, rounds to 2 MiB", () => {
    const c = new LoadCursor(0, []);
    expect(c.scriptAddr).toBe(0xc0_0000);
    expect(c.place(1)).toBe(0xe0_0000);
    expect(c.place(0x20_0000)).toBe(0x100_0000);
    expect(c.addr).toBe(0x120_0000);
    const d = new LoadCursor(0x4000_0000, []);
    expect(d.scriptAddr).toBe(0x4020_0000);
    expect(d.place(0x20_0001)).toBe(0x4040_0000);
    expect(d.addr).toBe(0x4080_0000);
  });

  it("moves past a /reserved-memory range the next address touches (both ends inclusive)", () => {
    const c = new LoadCursor(0x4000_0000, [{ start: 0x4060_0000, size: 0x10_0000 }]);
    c.place(0x100);
    // next would be 0x40600000, inside [0x40600000, 0x40700000]: moved to (end + 2 MiB) & ~(2 MiB - 1)
    expect(c.addr).toBe(0x4080_0000);
  });

  it("uses the arm64 Image header's image_size and the arm32 zImage header's end - start", () => {
    const a64 = new Uint8Array(64);
    const dv = new DataView(a64.buffer);
    dv.setUint32(16, 0x80_0000, true);
    dv.setUint32(56, 0x644d_5241, true);
    expect(headerImageSize(a64)).toBe(0x80_0000);
    const a32 = new Uint8Array(48);
    const dv32 = new DataView(a32.buffer);
    dv32.setUint32(36, 0x016f_2818, true);
    dv32.setUint32(40, 0x1000, true);
    dv32.setUint32(44, 0x5000, true);
    expect(headerImageSize(a32)).toBe(0x4000);
    expect(headerImageSize(new Uint8Array(100))).toBe(0);
  });
});

describe("the host device tree ImageBuilder produces", () => {
  const ib = buildImageBuilderSystem(`${FIX}/good.cfg`);
  const t = ib.tree;
  const cells = (path: string, prop: string) => propCells(getProp(findNode(t, path)!, prop)!);
  const strings = (path: string, prop: string) => propStrings(getProp(findNode(t, path)!, prop)!);

  it("loads every file at 2 MiB steps from MEMORY_START + 4 MiB, in the script's order", () => {
    expect(ib.scriptAddr).toBe(0x4020_0000);
    expect(ib.images.map((i) => [i.key, i.address.toString(16), i.size.toString(16)])).toEqual([
      ["DOMU_KERNEL[0]", "40400000", "800000"],
      ["DOMU_RAMDISK[0]", "40c00000", "200"],
      ["DOMU_KERNEL[1]", "40e00000", "800000"],
      ["XEN", "41600000", "200000"],
      ["DEVICE_TREE", "41800000", ib.images[4]!.fileSize.toString(16)],
    ]);
    expect(ib.images[0]).toMatchObject({ file: "kernel", path: `${FIX}/kernel`, fileSize: 256, line: 9 });
  });

  it("puts nodes ImageBuilder creates before the existing ones (libfdt's fdt_add_subnode)", () => {
    expect(findNode(t, "/chosen")!.children.map((c) => c.name)).toEqual(["domU1", "domU0"]);
    expect(findNode(t, "/chosen/domU0")!.children.map((c) => c.name)).toEqual([
      "module@40C00000",
      "module@40400000",
      "shared-mem@0x60000000",
    ]);
  });

  it("writes Xen's bindings: cells, memory in KiB as two cells, cpus, vpl011, modules, shm", () => {
    expect(cells("/chosen", "#address-cells")).toEqual([2]);
    expect(strings("/chosen", "xen,xen-bootargs")).toEqual(["console=dtuart dtuart=serial0 bootscrub=0"]);
    expect(strings("/chosen/domU0", "compatible")).toEqual(["xen,domain"]);
    expect(cells("/chosen/domU0", "memory")).toEqual([0, 256 * 1024]);
    expect(cells("/chosen/domU1", "memory")).toEqual([0, 512 * 1024]);
    expect(cells("/chosen/domU0", "cpus")).toEqual([1]);
    expect(cells("/chosen/domU0", "vpl011")).toEqual([1]);
    expect(strings("/chosen/domU0/module@40400000", "compatible")).toEqual([
      "multiboot,kernel",
      "multiboot,module",
    ]);
    expect(cells("/chosen/domU0/module@40400000", "reg")).toEqual([0, 0x4040_0000, 0, 0x80_0000]);
    expect(strings("/chosen/domU0/module@40400000", "bootargs")).toEqual(["console=ttyAMA0"]);
    expect(strings("/chosen/domU1/module@40E00000", "bootargs")).toEqual(["console=ttyAMA0 quiet"]);
    expect(strings("/chosen/domU0/module@40C00000", "compatible")).toEqual([
      "multiboot,ramdisk",
      "multiboot,module",
    ]);
    expect(strings("/chosen/domU0/shared-mem@0x60000000", "xen,shm-id")).toEqual(["shm-a"]);
    expect(cells("/chosen/domU0/shared-mem@0x60000000", "xen,shared-mem")).toEqual([
      0, 0x6000_0000, 0, 0x7000_0000, 0, 0x100_0000,
    ]);
    // Xen then builds domU1 first: it is first in the tree.
    const { report } = bootDom0less(t, { file: `${FIX}/good.cfg` });
    expect(report.domains.map((d) => [d.name, d.domid])).toEqual([
      ["domU1", 1],
      ["domU0", 2],
    ]);
  });

  it("names a heap-form node after its id and sums static memory into `memory`", () => {
    const h = buildImageBuilderSystem(`${FIX}/heap.cfg`).tree;
    expect(cells2(h, "/chosen/domU0/shared-mem-shm-h", "xen,shared-mem")).toEqual([
      0, 0x7000_0000, 0, 0x100_0000,
    ]);
    const s = buildImageBuilderSystem(`${FIX}/static-mem.cfg`).tree;
    expect(cells2(s, "/chosen/domU0", "xen,static-mem")).toEqual([0, 0x8000_0000, 0, 0x800_0000]);
    expect(cells2(s, "/chosen/domU0", "memory")).toEqual([0, 0x800_0000 / 1024]);
    expect(getProp(findNode(s, "/chosen/domU0")!, "direct-map")?.value.length).toBe(0);
  });

  it("points Xen's messages about generated nodes at the config line", () => {
    const r = bootDom0less(buildImageBuilderSystem(`${FIX}/module-overlap.cfg`).tree, {
      file: `${FIX}/module-overlap.cfg`,
    }).report;
    expect(r.failedNode).toBe(
      `/chosen/domU0/shared-mem@0x40000000 property xen,shared-mem (${FIX}/module-overlap.cfg:8:1)`,
    );
  });
});

function cells2(t: ReturnType<typeof loadDeviceTree>, path: string, prop: string): number[] | undefined {
  return propCells(getProp(findNode(t, path)!, prop)!);
}

describe("broken configs: each names the config line, the key and the rule", () => {
  it.each([
    [
      "unknown-variable",
      `${FIX}/unknown-variable.cfg:6, key DOMU_KERNELS[0]: unknown ImageBuilder variable DOMU_KERNELS (did you mean DOMU_KERNEL?): uboot-script-gen never reads it, so bash would set it and ImageBuilder ignore it`,
    ],
    [
      "missing-file",
      `${FIX}/missing-file.cfg:6, key DOMU_KERNEL[0]: Image-nope: no such file (looked for ${FIX}/Image-nope; ImageBuilder stops with "File Image-nope doesn't exist, exiting")`,
    ],
    [
      "bad-number",
      `${FIX}/bad-number.cfg:7, key DOMU_MEM[0]: bad number "12O" for domU0's memory in MB: bash arithmetic reads 0x hex, 0 octal or decimal`,
    ],
    [
      "bad-shm-number",
      `${FIX}/bad-shm-number.cfg:7, key DOMU_SHARED_MEM[0]: bad number "0x7000000G" for a shared memory address or size: bash arithmetic reads 0x hex, 0 octal or decimal`,
    ],
    [
      "index-out-of-range",
      `${FIX}/index-out-of-range.cfg:7, key DOMU_KERNEL[1]: index 1 is out of range: NUM_DOMUS is 1 (${FIX}/index-out-of-range.cfg:5), so uboot-script-gen never reads DOMU_KERNEL[1]`,
    ],
    [
      "missing-kernel",
      `${FIX}/missing-kernel.cfg:5, key DOMU_KERNEL[1]: DOMU_KERNEL[1] is not set, but NUM_DOMUS is 2: every domU below NUM_DOMUS needs a kernel (or DOMU_NOBOOT[1]=1)`,
    ],
    [
      "not-assignment",
      `${FIX}/not-assignment.cfg:7:1: not an assignment: "echo \\"building\\"" (an ImageBuilder config holds only NAME=value and NAME[i]=value lines; sshm cannot run shell commands)`,
    ],
    [
      "command-substitution",
      `${FIX}/command-substitution.cfg:6:16: command substitution and $((arithmetic)) cannot be evaluated by sshm`,
    ],
    [
      "unmodelled",
      `${FIX}/unmodelled.cfg:7, key DOMU_NAME[0]: DOMU_NAME is an ImageBuilder variable sshm does not model: what uboot-script-gen does with it could not be determined from the ImageBuilder sources sshm was built from (see src/imagebuilder/README.md)`,
    ],
    [
      "wrong-ramdisk",
      `${FIX}/wrong-ramdisk.cfg:7, key DOMU_RAMDISK[0]: not-a-cpio.txt is not a cpio archive: ImageBuilder stops with "Wrong file type not-a-cpio.txt. It should be cpio archive, exiting."`,
    ],
    [
      "not-enough-memory",
      `${FIX}/not-enough-memory.cfg:2, key MEMORY_END: the files end at 0x41000000, past MEMORY_END - 2 MiB = 0x40600000: ImageBuilder stops with "Error, not enough memory to load all binaries"`,
    ],
    [
      "no-xen",
      `${FIX}/no-xen.cfg: XEN is not set: uboot-script-gen stops with "Neither a Xen or Linux kernel is specified, exiting"`,
    ],
    ["unterminated", `${FIX}/unterminated.cfg:7:13: unterminated double-quoted string`],
  ])("%s", (name, message) => {
    expect(errorOf(() => buildImageBuilderSystem(`${FIX}/${name}.cfg`))).toBe(message);
  });
});

describe("the example (examples/imagebuilder/booting.cfg)", () => {
  const ib = buildImageBuilderSystem("examples/imagebuilder/booting.cfg");

  it("keeps every file to load with its address and size (for a later sshm run)", () => {
    expect(ib.images.map((i) => [i.role, i.file, i.address.toString(16), i.size.toString(16)])).toEqual([
      ["dom0-kernel", "Image-dom0", "b0000000", "800000"],
      ["domu-kernel", "Image-domU1", "b0800000", "800000"],
      ["domu-kernel", "Image-domU2", "b1000000", "800000"],
      ["xen", "xen", "b1800000", "200000"],
      ["device-tree", "host.dts", "b1a00000", ib.images[4]!.fileSize.toString(16)],
    ]);
    expect(ib.domUs.map((d) => [d.path, d.memoryKiB, d.vcpus, d.kernel.file])).toEqual([
      ["/chosen/domU1", 128 * 1024, 2, "Image-domU1"],
      ["/chosen/domU2", 64 * 1024, 1, "Image-domU2"],
    ]);
  });

  it("DOMU_ENHANCED[i]=0 keeps xen,enhanced off although there is a Dom0; without Dom0 it is off", () => {
    expect(getProp(findNode(ib.tree, "/chosen/domU1")!, "xen,enhanced")).toBeUndefined();
    const good = buildImageBuilderSystem(`${FIX}/good.cfg`).tree;
    expect(getProp(findNode(good, "/chosen/domU0")!, "xen,enhanced")).toBeUndefined();
    expect(findNode(ib.tree, "/chosen/domU2/shared-mem@0x50000000")).toBeDefined();
    expect(getProp(findNode(ib.tree, "/chosen/domU2")!, "vpl011")).toBeUndefined();
  });
});

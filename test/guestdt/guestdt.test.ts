import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { SshmError } from "../../src/common/errors.js";
import type { FdtNode, FdtTree } from "../../src/fdt/index.js";
import { decodeDtb, findNode, getProp, parseDts, propCells, propString } from "../../src/fdt/index.js";
import type { GuestShmRegion } from "../../src/guestdt/index.js";
import { guestDtToDtb, guestDtToDts, makeDomUDt, makeHwdomDt } from "../../src/guestdt/index.js";

/** Compile DTS with the reference dtc; fails (not skips) when dtc is missing or warns. */
function dtc(dts: string): Buffer {
  const r = spawnSync("dtc", ["-q", "-I", "dts", "-O", "dtb", "-"], { input: dts });
  if (r.error) throw new Error(`dtc is required (apt-get install device-tree-compiler): ${r.error.message}`);
  expect(r.stderr.toString()).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
}

function sameBytes(ours: Uint8Array, theirs: Buffer): void {
  // Compare as hex so a failure shows where the bytes differ.
  expect(Buffer.from(ours).toString("hex")).toBe(theirs.toString("hex"));
}

const names = (n: FdtNode | undefined): string[] => (n ? n.children.map((c) => c.name) : []);
const cellsOf = (t: FdtTree, path: string, prop: string): number[] | undefined => {
  const n = findNode(t, path);
  const p = n ? getProp(n, prop) : undefined;
  return p ? propCells(p) : undefined;
};

const RAM0 = { start: 0x4000_0000, size: 0x800_0000 }; // memory = <0 131072>: 128 MiB at GUEST_RAM0_BASE

describe("domU device tree", () => {
  it("DT-1 domU1: byte-identical to what dtc compiles from the hand-written DTS", () => {
    const tree = makeDomUDt({
      ramBanks: [RAM0],
      shm: [{ gaddr: 0x6000_0000, size: 0x2000_0000, id: "my-shared-mem-1", offset: 0 }],
    });
    const expected = `/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	memory@40000000 {
		device_type = "memory";
		reg = <0x0 0x40000000 0x0 0x8000000  0x0 0x60000000 0x0 0x20000000>;
	};
	reserved-memory {
		ranges;
		#address-cells = <2>;
		#size-cells = <2>;
		xen-shmem@60000000 {
			compatible = "xen,shared-memory-v1";
			reg = <0x0 0x60000000 0x0 0x20000000>;
			xen,id = "my-shared-mem-1";
			xen,offset = /bits/ 64 <0x0>;
		};
	};
};
`;
    sameBytes(guestDtToDtb(tree), dtc(expected));
    // The DTS we print compiles back to the same bytes too.
    sameBytes(guestDtToDtb(tree), dtc(guestDtToDts(tree)));
    // And the facts the reference states, checked directly.
    const shm = findNode(tree, "/reserved-memory/xen-shmem@60000000");
    expect(shm?.props.map((p) => p.name)).toEqual(["compatible", "reg", "xen,id", "xen,offset"]);
    expect(shm && getProp(shm, "compatible")?.value.length).toBe(21);
    expect(cellsOf(tree, "/reserved-memory/xen-shmem@60000000", "reg")).toEqual([
      0, 0x6000_0000, 0, 0x2000_0000,
    ]);
    expect(cellsOf(tree, "/reserved-memory/xen-shmem@60000000", "xen,offset")).toEqual([0, 0]);
  });

  it("DT-1 domU2 gets xen-shmem@70000000 for the same id", () => {
    const tree = makeDomUDt({
      ramBanks: [RAM0],
      shm: [{ gaddr: 0x7000_0000, size: 0x2000_0000, id: "my-shared-mem-1", offset: 0 }],
    });
    expect(names(findNode(tree, "/reserved-memory"))).toEqual(["xen-shmem@70000000"]);
    const n = findNode(tree, "/reserved-memory/xen-shmem@70000000");
    expect(n && propString(getProp(n, "xen,id")!)).toBe("my-shared-mem-1");
  });

  it("DT-4 domU1 (three shm nodes, two RAM banks): memory reg lists RAM then every region in node order", () => {
    const shm: GuestShmRegion[] = [
      { gaddr: 0x5000_0000, size: 0x1000_0000, id: "my-shared-mem-0", offset: 0 },
      { gaddr: 0x6000_0000, size: 0x2000_0000, id: "my-shared-mem-1", offset: 0 },
      { gaddr: 0x8000_0000, size: 0x2000_0000, id: "my-shared-mem-2", offset: 0 },
    ];
    const ram1 = { start: 0x2_0000_0000, size: 0x4000_0000 }; // GUEST_RAM1_BASE overflow bank
    const tree = makeDomUDt({ ramBanks: [RAM0, ram1], shm });
    expect(names(tree.root)).toEqual(["memory@40000000", "reserved-memory"]);
    expect(cellsOf(tree, "/memory@40000000", "reg")).toEqual([
      0, 0x4000_0000, 0, 0x800_0000, 2, 0, 0, 0x4000_0000, 0, 0x5000_0000, 0, 0x1000_0000, 0, 0x6000_0000, 0,
      0x2000_0000, 0, 0x8000_0000, 0, 0x2000_0000,
    ]);
    expect(names(findNode(tree, "/reserved-memory"))).toEqual([
      "xen-shmem@50000000",
      "xen-shmem@60000000",
      "xen-shmem@80000000",
    ]);
    const dts = guestDtToDts(tree);
    sameBytes(guestDtToDtb(tree), dtc(dts));
  });

  it("no shm node: no /reserved-memory at all", () => {
    const tree = makeDomUDt({ ramBanks: [RAM0], shm: [] });
    expect(names(tree.root)).toEqual(["memory@40000000"]);
    expect(cellsOf(tree, "/memory@40000000", "reg")).toEqual([0, 0x4000_0000, 0, 0x800_0000]);
    sameBytes(
      guestDtToDtb(tree),
      dtc(`/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; }; };`),
    );
  });

  it("two shm nodes with the same G give two children with the same name (Xen does not prevent it)", () => {
    const tree = makeDomUDt({
      ramBanks: [RAM0],
      shm: [
        { gaddr: 0x6000_0000, size: 0x1000, id: "a", offset: 0 },
        { gaddr: 0x6000_0000, size: 0x2000, id: "b", offset: 0 },
      ],
    });
    const resv = findNode(tree, "/reserved-memory");
    expect(names(resv)).toEqual(["xen-shmem@60000000", "xen-shmem@60000000"]);
    // The DTB is what Xen hands the guest. dtc (like sshm's own decodeDtb) flags the duplicate name
    // as an error, so read it back with dtc -f (force) and check both nodes are there, in order.
    const r = spawnSync("dtc", ["-f", "-q", "-I", "dtb", "-O", "dts", "-"], { input: guestDtToDtb(tree) });
    const dts = r.stdout.toString();
    expect(dts.match(/xen-shmem@60000000 \{/g)).toHaveLength(2);
    expect([...dts.matchAll(/xen,id = "(\w)";/g)].map((m) => m[1])).toEqual(["a", "b"]);
    expect(dts).toContain("reg = <0x00 0x60000000 0x00 0x2000>;");
    expect(() => decodeDtb(guestDtToDtb(tree))).toThrow('duplicate node name "xen-shmem@60000000"');
  });

  it("unit names: lowercase hex, no 0x, no leading zeros; G = 0 gives xen-shmem@0", () => {
    const tree = makeDomUDt({
      ramBanks: [{ start: 0xa_bc00_0000, size: 0x1000 }],
      shm: [
        { gaddr: 0, size: 0x1000, id: "zero", offset: 0 },
        { gaddr: 0xf_ff00_0000, size: 0x1000, id: "high", offset: 0 },
      ],
    });
    expect(names(tree.root)).toEqual(["memory@abc000000", "reserved-memory"]);
    expect(names(findNode(tree, "/reserved-memory"))).toEqual(["xen-shmem@0", "xen-shmem@fff000000"]);
    expect(cellsOf(tree, "/reserved-memory/xen-shmem@fff000000", "reg")).toEqual([
      0xf, 0xff00_0000, 0, 0x1000,
    ]);
  });

  it("xen,offset carries an xl borrower's real offset as a 64-bit value", () => {
    const tree = makeDomUDt({
      ramBanks: [RAM0],
      shm: [
        { gaddr: 0x6000_0000, size: 0xf_0000, id: "A", offset: 0x1_0000 },
        { gaddr: 0x7000_0000, size: 0x1000, id: "B", offset: 0x1_2345_6000 },
      ],
    });
    expect(cellsOf(tree, "/reserved-memory/xen-shmem@60000000", "xen,offset")).toEqual([0, 0x1_0000]);
    expect(cellsOf(tree, "/reserved-memory/xen-shmem@70000000", "xen,offset")).toEqual([1, 0x2345_6000]);
    sameBytes(
      guestDtToDtb(tree),
      dtc(`/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	memory@40000000 {
		device_type = "memory";
		reg = /bits/ 64 <0x40000000 0x8000000 0x60000000 0xf0000 0x70000000 0x1000>;
	};
	reserved-memory {
		ranges;
		#address-cells = <2>;
		#size-cells = <2>;
		xen-shmem@60000000 {
			compatible = "xen,shared-memory-v1";
			reg = /bits/ 64 <0x60000000 0xf0000>;
			xen,id = "A";
			xen,offset = /bits/ 64 <0x10000>;
		};
		xen-shmem@70000000 {
			compatible = "xen,shared-memory-v1";
			reg = /bits/ 64 <0x70000000 0x1000>;
			xen,id = "B";
			xen,offset = /bits/ 64 <0x123456000>;
		};
	};
};`),
    );
  });

  it("rejects a domain without RAM banks and bad numbers, naming the field", () => {
    const errOf = (fn: () => unknown): SshmError | undefined => {
      try {
        fn();
      } catch (e) {
        return e as SshmError;
      }
      return undefined;
    };
    const e1 = errOf(() => makeDomUDt({ ramBanks: [], shm: [] }));
    expect(e1?.code).toBe("EGUESTDT");
    expect(e1?.message).toBe("a memory node needs at least one RAM bank (Xen: -ENOENT)");
    const e2 = errOf(() =>
      makeDomUDt({ ramBanks: [RAM0], shm: [{ gaddr: -1, size: 1, id: "x", offset: 0 }] }),
    );
    expect(e2?.message).toBe("shm[0].gaddr -1 is not a non-negative integer below 2^53");
  });
});

// ---- hardware domain ----

const HOST_HEAD = `/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "arm,sshm-test";
	memory@10000000 {
		device_type = "memory";
		reg = <0x0 0x10000000 0x0 0xb0000000>;
	};
	chosen {
		#address-cells = <1>;
		#size-cells = <1>;
		xen,xen-bootargs = "dom0_mem=256M";
		module@1000000 {
			compatible = "multiboot,kernel", "multiboot,module";
			reg = <0x1000000 0x100000>;
		};
		shm@10000000 {
			compatible = "xen,domain-shared-memory-v1";
			role = "owner";
			xen,shm-id = "my-shared-mem-0";
			xen,shared-mem = <0x10000000 0x10000000 0x10000000>;
		};
		domU1 {
			compatible = "xen,domain";
			#address-cells = <1>;
			#size-cells = <1>;
			memory = <0 131072>;
			shm@10000000 {
				compatible = "xen,domain-shared-memory-v1";
				role = "borrower";
				xen,shm-id = "my-shared-mem-0";
				xen,shared-mem = <0x10000000 0x50000000 0x10000000>;
			};
		};
	};
`;
const SERIAL = `	serial@9000000 {
		compatible = "arm,pl011";
		reg = <0x0 0x9000000 0x0 0x1000>;
	};
`;
const FW_RESV = `	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
		fw@30000000 {
			reg = <0x0 0x30000000 0x0 0x100000>;
			no-map;
		};
	};
`;
const DOM0 = {
  ramBanks: [{ start: 0x2000_0000, size: 0x1000_0000 }],
  shm: [{ gaddr: 0x1000_0000, size: 0x1000_0000, id: "my-shared-mem-0", offset: 0 }],
};
const CHOSEN_LEFT = `	chosen {
		#address-cells = <1>;
		#size-cells = <1>;
		xen,xen-bootargs = "dom0_mem=256M";
	};
`;
const DOM0_MEMORY = `	memory@20000000 {
		device_type = "memory";
		reg = <0x0 0x20000000 0x0 0x10000000  0x0 0x10000000 0x0 0x10000000>;
	};
`;
const SHMEM0 = `		xen-shmem@10000000 {
			compatible = "xen,shared-memory-v1";
			reg = <0x0 0x10000000 0x0 0x10000000>;
			xen,id = "my-shared-mem-0";
			xen,offset = /bits/ 64 <0>;
		};
`;

describe("hardware domain device tree", () => {
  it("no /reserved-memory in the host: config and memory nodes dropped, Xen's memory node and a new /reserved-memory at the end", () => {
    const host = parseDts(`${HOST_HEAD}${SERIAL}};\n`, "host.dts");
    const hw = makeHwdomDt(host, DOM0);
    const expected = `/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "arm,sshm-test";
${CHOSEN_LEFT}${SERIAL}${DOM0_MEMORY}	reserved-memory {
		ranges;
		#address-cells = <2>;
		#size-cells = <2>;
${SHMEM0}	};
};
`;
    sameBytes(guestDtToDtb(hw), dtc(expected));
    // The host tree is not modified.
    expect(names(host.root)).toEqual(["memory@10000000", "chosen", "serial@9000000"]);
    expect(names(findNode(host, "/chosen"))).toEqual(["module@1000000", "shm@10000000", "domU1"]);
  });

  it("an existing /reserved-memory gets the xen-shmem children before its own, and no second node is made", () => {
    const host = parseDts(`${HOST_HEAD}${FW_RESV}${SERIAL}};\n`, "host.dts");
    const hw = makeHwdomDt(host, DOM0);
    const expected = `/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "arm,sshm-test";
${CHOSEN_LEFT}	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
${SHMEM0}		fw@30000000 {
			reg = <0x0 0x30000000 0x0 0x100000>;
			no-map;
		};
	};
${SERIAL}${DOM0_MEMORY}};
`;
    sameBytes(guestDtToDtb(hw), dtc(expected));
    expect(hw.root.children.filter((c) => c.name === "reserved-memory")).toHaveLength(1);
  });

  it("uses the host root's cells for memory and xen-shmem reg (1/1 here), even if /reserved-memory says otherwise", () => {
    const host = parseDts(
      `/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	memory { device_type = "memory"; reg = <0x10000000 0x10000000>; };
	reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; };
};`,
      "h.dts",
    );
    const hw = makeHwdomDt(host, {
      ramBanks: [{ start: 0x1000_0000, size: 0x1000_0000 }],
      shm: [{ gaddr: 0x3000_0000, size: 0x20_0000, id: "s", offset: 0 }],
    });
    expect(names(hw.root)).toEqual(["reserved-memory", "memory@10000000"]);
    expect(cellsOf(hw, "/memory@10000000", "reg")).toEqual([
      0x1000_0000, 0x1000_0000, 0x3000_0000, 0x20_0000,
    ]);
    // dt_n_addr_cells(/reserved-memory) reads the parent's (root's) cells, as in Xen.
    expect(cellsOf(hw, "/reserved-memory/xen-shmem@30000000", "reg")).toEqual([0x3000_0000, 0x20_0000]);
    expect(cellsOf(hw, "/reserved-memory/xen-shmem@30000000", "xen,offset")).toEqual([0, 0]);
  });

  it("a Dom0 without shm keeps the host /reserved-memory untouched and adds none", () => {
    const host = parseDts(`${HOST_HEAD}${FW_RESV}};\n`, "host.dts");
    const hw = makeHwdomDt(host, { ramBanks: DOM0.ramBanks, shm: [] });
    expect(names(hw.root)).toEqual(["chosen", "reserved-memory", "memory@20000000"]);
    expect(names(findNode(hw, "/reserved-memory"))).toEqual(["fw@30000000"]);
    expect(cellsOf(hw, "/memory@20000000", "reg")).toEqual([0, 0x2000_0000, 0, 0x1000_0000]);
  });
});

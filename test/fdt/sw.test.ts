import { describe, expect, it } from "vitest";
import { FDT_ERR_NOSPACE, FdtSw, FdtSwError } from "../../src/fdt/index.js";
import { dtcDecompile, header, stringTable, structTokens } from "../guestdt/fdt-layout.js";

const cell = (v: number) => new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);

function tiny(): Uint8Array {
  const sw = new FdtSw(4096);
  sw.finishReservemap();
  sw.beginNode("");
  sw.property("#address-cells", cell(2));
  sw.endNode();
  return sw.finish();
}

describe("libfdt sequential write (fdt_sw.c layout)", () => {
  it("a one-property tree, byte for byte as fdt_create/fdt_finish lay it out", () => {
    const hex = [
      // header: magic, totalsize 0x6f (odd: no padding), off_dt_struct 0x40, off_dt_strings 0x60,
      // off_mem_rsvmap 0x30, version 17, last_comp 16, boot_cpuid 0, size_strings 15, size_struct 0x20
      ["d00dfeed", "0000006f", "00000040", "00000060", "00000030", "00000011", "00000010", "00000000"].join(
        "",
      ),
      ["0000000f", "00000020"].join(""),
      "0000000000000000", // 0x28-0x2f: zero (the rsvmap starts at ALIGN(40, 16))
      "00000000000000000000000000000000", // the terminating reserve entry
      "00000001" + "00000000", // FDT_BEGIN_NODE ""
      "00000003" + "00000004" + "00000000" + "00000002", // FDT_PROP len 4 nameoff 0 <2>
      "00000002" + "00000009", // FDT_END_NODE, FDT_END
      Buffer.from("#address-cells\0", "latin1").toString("hex"),
    ].join("");
    expect(Buffer.from(tiny()).toString("hex")).toBe(hex);
  });

  it("the blob reads back with dtc", () => {
    expect(dtcDecompile(tiny())).toBe("/dts-v1/;\n\n/ {\n\t#address-cells = <0x02>;\n};\n");
  });

  it("strings are in reverse first-use order; a name equal to a tail of one already there is shared", () => {
    const sw = new FdtSw(4096);
    sw.finishReservemap();
    sw.beginNode("");
    sw.property("#address-cells", cell(2));
    sw.property("#size-cells", cell(2));
    sw.property("linux,phandle", cell(1));
    sw.property("phandle", cell(1)); // tail of linux,phandle
    sw.property("cells", cell(1)); // tail of both #size-cells and #address-cells: the lowest, newest wins
    sw.property("#address-cells", cell(3)); // the same name again
    sw.endNode();
    const b = sw.finish();
    expect(stringTable(b)).toEqual([
      ["linux,phandle", 0],
      ["#size-cells", 14],
      ["#address-cells", 26],
    ]);
    const dv = new DataView(b.buffer);
    const nameoffs: number[] = [];
    for (let p = 0x48; nameoffs.length < 6; p += 16) nameoffs.push(dv.getUint32(p + 8));
    expect(nameoffs).toEqual([26, 14, 0, 6, 14 + 6, 26]);
    expect(header(b).sizeStrings).toBe(41);
  });

  it("node names are NUL-terminated and padded to 4 bytes with zeroes", () => {
    const sw = new FdtSw(4096);
    sw.finishReservemap();
    sw.beginNode("");
    sw.beginNode("cpus");
    sw.endNode();
    sw.beginNode("cpu@100");
    sw.endNode();
    sw.endNode();
    const b = sw.finish();
    expect(Buffer.from(b.subarray(0x48, 0x48 + 12)).toString("hex")).toBe(
      "00000001" + "63707573" + "00000000",
    );
    expect(structTokens(b)).toEqual([
      'begin ""',
      'begin "cpus"',
      "end",
      'begin "cpu@100"',
      "end",
      "end",
      "fdt_end",
    ]);
  });

  it("running out of room fails with -FDT_ERR_NOSPACE at the call that does not fit", () => {
    expect(() => new FdtSw(0x2f)).toThrow(FdtSwError);
    // 0x40 header+rsvmap, then 8 (root) + 16 (prop) + strings 15 = 0x67: a 0x66-byte buffer fits the
    // root but not the property's name plus its 16 bytes.
    const sw = new FdtSw(0x66);
    sw.finishReservemap();
    sw.beginNode("");
    let err: unknown;
    try {
      sw.property("#address-cells", cell(2));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FdtSwError);
    expect((err as FdtSwError).err).toBe(-FDT_ERR_NOSPACE);
    // libfdt rolled the name back (fdt_del_last_string_): a shorter property still fits.
    sw.property("a", new Uint8Array(0));
  });
});

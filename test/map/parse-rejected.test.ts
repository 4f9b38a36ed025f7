/**
 * A tree Xen refuses in its early FDT scan builds no domain, yet its map still draws what Xen had
 * registered (the shm banks parsed so far) and the failing overlap: the range refused and the one
 * it overlapped, both in red, their intersection hatched. One fixture per overlap check.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadSystem } from "../../src/cli/input.js";
import { toMemoryMap } from "../../src/cli/map-model.js";
import { parseStaticShm } from "../../src/dom0less/index.js";
import { parseDts } from "../../src/fdt/index.js";
import { renderSvg } from "../../src/map/index.js";
import { byClass, hasClass, parseXml, textOf, type XmlElement } from "./xml.js";

const FIX = "test/map/fixtures";
const M = 2 ** 20;

const attr = (e: XmlElement | undefined, a: string) => e?.attrs.get(a);
const child = (g: XmlElement, name: string) =>
  g.children.find((c): c is XmlElement => typeof c !== "string" && c.name === name);
const title = (g: XmlElement) => textOf(child(g, "title") ?? parseXml("<t/>"));

function picture(file: string) {
  const loaded = loadSystem([`${FIX}/${file}`]);
  const map = toMemoryMap(loaded.report, loaded.layout);
  const root = parseXml(renderSvg(map));
  /** Host region groups by tooltip head ("shm shm-a", "reserved: reserved", "module: domU1 kernel"). */
  const regions = (head: string) => byClass(root, "region").filter((g) => title(g).startsWith(`${head}\n`));
  return { loaded, map, root, regions };
}

/** y and height of a group's rectangle, and of every red area drawn. */
const yh = (g: XmlElement | undefined) => {
  const r = g && child(g, "rect");
  return [Number(attr(r, "y")), Number(attr(r, "height"))] as const;
};

describe("the structured overlap of a failed early FDT parse", () => {
  const overlapOf = (file: string) =>
    parseStaticShm(parseDts(readFileSync(`${FIX}/${file}`, "utf8"), file)).error?.overlap;

  it.each([
    [
      "overlap-shm.dts",
      {
        refused: {
          start: 0x5100_0000,
          size: 32 * M,
          kind: "shm",
          path: "/chosen/domU2/shm-b@51000000",
          id: "shm-b",
        },
        other: {
          start: 0x5000_0000,
          size: 32 * M,
          kind: "shm",
          path: "/chosen/domU1/shm-a@50000000",
          index: 0,
        },
      },
    ],
    [
      "overlap-reserved.dts",
      {
        refused: {
          start: 0x6080_0000,
          size: 32 * M,
          kind: "shm",
          path: "/chosen/domU1/shm-a@60800000",
          id: "shm-a",
        },
        other: {
          start: 0x6000_0000,
          size: 16 * M,
          kind: "reserved",
          path: "/reserved-memory/firmware@60000000",
          index: 0,
        },
      },
    ],
    [
      "overlap-module.dts",
      {
        refused: {
          start: 0x3040_0000,
          size: 2 * M,
          kind: "shm",
          path: "/chosen/domU1/shm-a@30400000",
          id: "shm-a",
        },
        // mod[0] is Xen's own image (start_xen), mod[1] the DTB (boot_fdt_info).
        other: {
          start: 0x3000_0000,
          size: 8 * M,
          kind: "module",
          path: "/chosen/domU1/module@30000000",
          index: 2,
        },
      },
    ],
    [
      "reserved-after-shm.dts",
      {
        refused: {
          start: 0x7100_0000,
          size: 16 * M,
          kind: "reserved",
          path: "/reserved-memory/firmware@71000000",
        },
        other: {
          start: 0x7000_0000,
          size: 32 * M,
          kind: "shm",
          path: "/chosen/domU1/shm-a@70000000",
          index: 0,
        },
      },
    ],
    [
      "same-range.dts",
      {
        refused: {
          start: 0x5000_0000,
          size: 32 * M,
          kind: "shm",
          path: "/chosen/domU2/shm-b@50000000",
          id: "shm-b",
        },
        other: {
          start: 0x5000_0000,
          size: 32 * M,
          kind: "shm",
          path: "/chosen/domU1/shm-a@50000000",
          index: 0,
        },
      },
    ],
  ])("%s", (file, want) => {
    expect(overlapOf(file)).toEqual(want);
  });

  it("is absent when the failing check is not an overlap test", () => {
    const text = readFileSync("test/cli/fixtures/parse-reject.dts", "utf8");
    const p = parseStaticShm(parseDts(text, "parse-reject.dts"));
    expect(p.error?.message).toBe("fdt: invalid `role` property for static shared memory node.");
    expect(p.error?.overlap).toBeUndefined();
  });
});

describe("the map of a tree refused at parse", () => {
  it("draws the bank parsed so far, the refused region beside it and their intersection hatched", () => {
    const { map, root, regions } = picture("overlap-shm.dts");
    expect(map.verdict).toBe("rejected");
    expect(map.domains).toEqual([]);
    const shm = map.host.filter((r) => r.kind === "shm");
    expect(shm).toEqual([
      {
        kind: "shm",
        start: 0x5000_0000,
        size: 32 * M,
        label: "shm-a",
        id: "shm-a",
        owner: "domU1",
        source: "/chosen/domU1/shm-a@50000000",
        stage: "parsed",
        note: "parsed before Xen stopped: no domain was built",
      },
      {
        kind: "shm",
        start: 0x5100_0000,
        size: 32 * M,
        label: "shm-b (refused)",
        id: "shm-b",
        source: "/chosen/domU2/shm-b@51000000",
        stage: "refused",
        note: "refused by Xen's overlap check: the boot panics here",
      },
    ]);
    expect(map.warnings).toEqual([
      {
        code: "XEN-PANIC",
        message:
          "Early FDT parsing failed (-22): Region: [0x00000051000000, 0x00000053000000) overlapping with bank[0]: [0x00000050000000, 0x00000052000000)",
        node: "/chosen/domU2/shm-b@51000000 property xen,shared-mem (test/map/fixtures/overlap-shm.dts:53:17)",
        host: [
          { start: 0x5100_0000, size: 32 * M },
          { start: 0x5000_0000, size: 32 * M },
        ],
      },
    ]);
    // Drawn: both regions with their ids and stages, the two red areas and one hatched overlap,
    // all under warning 1 (the panic), which the list below the picture spells out.
    const [a, b] = [regions("shm shm-a"), regions("shm shm-b")];
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect([hasClass(a[0]!, "parsed"), hasClass(a[0]!, "refused")]).toEqual([true, false]);
    expect([hasClass(b[0]!, "parsed"), hasClass(b[0]!, "refused")]).toEqual([false, true]);
    expect(title(a[0]!)).toContain("owner: domU1");
    expect(title(b[0]!)).toContain("refused by Xen's overlap check: the boot panics here");
    const areas = byClass(root, "warn-area");
    expect(areas.map((e) => attr(e, "data-n"))).toEqual(["1", "1", "1"]);
    const hatched = byClass(root, "overlap");
    expect(hatched).toHaveLength(1);
    // The hatch spans exactly the intersection [0x51000000, 0x52000000): shm-b's top to shm-a's bottom.
    const [ay, ah] = yh(a[0]);
    const [by] = yh(b[0]);
    expect(Number(attr(hatched[0], "y"))).toBeCloseTo(by, 5);
    expect(Number(attr(hatched[0], "y")) + Number(attr(hatched[0], "height"))).toBeCloseTo(ay + ah, 5);
    const list = byClass(root, "warning").map(textOf).join(" ");
    expect(list).toContain("XEN-PANIC: Early FDT parsing failed (-22): Region: [0x00000051000000,");
    expect(byClass(root, "verdict-badge").map((e) => attr(e, "data-verdict"))).toEqual(["rejected"]);
  });

  it("marks a reserved-memory node that a shm region overlaps, and a boot module", () => {
    for (const [file, head] of [
      ["overlap-reserved.dts", "reserved: reserved"],
      ["overlap-module.dts", "module: domU1 kernel"],
    ] as const) {
      const { root, regions } = picture(file);
      const other = regions(head);
      expect(other, `${file}: ${head}`).toHaveLength(1);
      expect(regions("shm shm-a"), file).toHaveLength(1);
      const [oy] = yh(other[0]);
      const areas = byClass(root, "warn-area").filter((e) => !attr(e, "class")?.includes("overlap"));
      expect(
        areas.some((e) => Math.abs(Number(attr(e, "y")) - oy) < 1e-6),
        `${file}: red area on the overlapped range`,
      ).toBe(true);
      expect(byClass(root, "overlap"), file).toHaveLength(1);
    }
  });

  it("marks the reserved-memory node Xen refused, drawn once from the host description", () => {
    const { map, root, regions } = picture("reserved-after-shm.dts");
    const fw = map.host.filter((r) => r.source === "/reserved-memory/firmware@71000000");
    expect(fw).toEqual([
      {
        kind: "reserved",
        start: 0x7100_0000,
        size: 16 * M,
        label: "reserved",
        source: "/reserved-memory/firmware@71000000",
        stage: "refused",
        note: "refused by Xen's overlap check: the boot panics here",
      },
    ]);
    expect(regions("shm shm-a")).toHaveLength(1);
    expect(regions("reserved: reserved")).toHaveLength(1);
    expect(byClass(root, "overlap")).toHaveLength(1);
  });

  it("still draws the banks parsed so far when the failure is not an overlap", () => {
    const { map, root } = picture("../../cli/fixtures/parse-reject.dts");
    // parse-reject fails on its first shm node: nothing was registered, nothing is marked.
    expect(map.host.filter((r) => r.kind === "shm")).toEqual([]);
    expect(map.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        "XEN-PANIC",
        "Early FDT parsing failed (-22): fdt: invalid `role` property for static shared memory node.",
      ],
    ]);
    expect(byClass(root, "warn-area")).toEqual([]);
  });
});

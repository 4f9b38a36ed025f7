/** Geometry of the picture: the piecewise scale, lanes, colours, the overlap scan, model checks. */
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/index.js";
import {
  assignLanes,
  BREAK_H,
  buildIssues,
  buildScale,
  findOverlaps,
  MIN_PIECE_H,
  PALETTE,
  pieceHeight,
  shmColours,
  validateMap,
} from "../../src/map/layout.js";
import type { MemoryMap } from "../../src/map/model.js";
import { bootingMap, IDS, overlapMap } from "./example.js";

const G = 1 << 30;

describe("piecewise scale", () => {
  it("gives a 4 KiB page a visible height and a 1 GiB bank a larger but not linear one", () => {
    expect(pieceHeight(4096)).toBe(MIN_PIECE_H);
    expect(pieceHeight(1)).toBe(MIN_PIECE_H);
    expect(pieceHeight(G)).toBeGreaterThan(pieceHeight(2 * 1024 * 1024));
    expect(pieceHeight(G)).toBeLessThan(10 * MIN_PIECE_H);
    for (let s = 4096; s < 2 ** 47; s *= 2) expect(pieceHeight(2 * s)).toBeGreaterThan(pieceHeight(s));
  });

  it("shows only occupied ranges, a fixed break for each gap, exact y at every boundary", () => {
    // Two clusters 2^40 apart: [0x1000,0x2000) inside [0,1G), and a page at 2^40.
    const sc = buildScale([
      { start: 0, end: G },
      { start: 0x1000, end: 0x2000 },
      { start: 2 ** 40, end: 2 ** 40 + 4096 },
    ]);
    expect(sc.pieces.map((p) => [p.start, p.end])).toEqual([
      [0, 0x1000],
      [0x1000, 0x2000],
      [0x2000, G],
      [2 ** 40, 2 ** 40 + 4096],
    ]);
    expect(sc.breaks).toHaveLength(1);
    expect(sc.breaks[0]).toMatchObject({ start: G, end: 2 ** 40, h: BREAK_H });
    expect(sc.y(0)).toBe(0);
    expect(sc.y(0x1000)).toBe(MIN_PIECE_H);
    expect(sc.y(0x2000)).toBe(2 * MIN_PIECE_H);
    expect(sc.y(2 ** 40)).toBe(sc.y(G) + BREAK_H);
    expect(sc.height).toBe(sc.y(2 ** 40) + MIN_PIECE_H);
    // The whole 2^40 - 1G gap costs BREAK_H pixels, not a 2^40-byte stretch.
    expect(sc.height).toBeLessThan(300);
    const ys = sc.boundaries().map((a) => sc.y(a));
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
  });

  it("is empty for no ranges and starts at 0 for the lowest range", () => {
    const empty = buildScale([]);
    expect(empty.height).toBe(0);
    expect(empty.pieces).toEqual([]);
    const one = buildScale([{ start: 0x8000_0000, end: 0x8000_1000 }]);
    expect(one.y(0x8000_0000)).toBe(0);
    expect(one.breaks).toEqual([]);
  });
});

describe("lanes", () => {
  it("keeps disjoint ranges full width and splits only chain-overlapping groups", () => {
    const lanes = assignLanes([
      { start: 0, end: 100 },
      { start: 50, end: 150 },
      { start: 140, end: 200 },
      { start: 300, end: 400 },
    ]);
    expect(lanes).toEqual([
      { lane: 0, lanes: 2 },
      { lane: 1, lanes: 2 },
      { lane: 0, lanes: 2 },
      { lane: 0, lanes: 1 },
    ]);
  });

  it("puts three mutually overlapping ranges in three lanes", () => {
    const lanes = assignLanes([
      { start: 0, end: 10 },
      { start: 0, end: 10 },
      { start: 5, end: 6 },
    ]);
    expect(new Set(lanes.map((l) => l.lane))).toEqual(new Set([0, 1, 2]));
    expect(lanes.every((l) => l.lanes === 3)).toBe(true);
  });
});

describe("colours", () => {
  it("gives each shm id its own colour by order of first appearance", () => {
    const c = shmColours(bootingMap());
    expect([...c.keys()]).toEqual([...IDS]);
    expect([...c.values()]).toEqual(PALETTE.slice(0, 3));
  });

  it("stays distinct and non-red beyond the palette", () => {
    const map: MemoryMap = {
      ...bootingMap(),
      domains: [],
      host: Array.from({ length: 40 }, (_, i) => ({
        kind: "shm" as const,
        id: `id${i}`,
        label: `id${i}`,
        start: i * 0x10_0000,
        size: 0x1000,
      })),
    };
    const c = [...shmColours(map).values()];
    expect(c).toHaveLength(40);
    expect(new Set(c).size).toBe(40);
    expect(c.every((x) => /^#[0-9a-f]{6}$/.test(x))).toBe(true);
    expect(c).not.toContain("#d62728");
    for (const x of c) {
      const n = Number.parseInt(x.slice(1), 16);
      const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
      expect(r > 180 && g < 90 && b < 90, `${x} is too close to the warning red`).toBe(false);
    }
  });
});

describe("overlaps and the numbered list", () => {
  it("finds nothing in the booting.txt example: RAM holding shm and modules is normal", () => {
    expect(findOverlaps(bootingMap())).toEqual([]);
    const issues = buildIssues(bootingMap());
    expect(issues.map((i) => [i.n, i.code, i.derived])).toEqual([[1, "SSHM-DOMIO-LEAK", false]]);
    expect(issues[0]?.marks).toEqual([{ col: 0, start: 0x5000_0000, end: 0x7000_0000 }]);
  });

  it("flags a guest range overlapping the domain's RAM (DT-41) in that domain's column", () => {
    const o = findOverlaps(overlapMap());
    expect(o).toHaveLength(1);
    expect(o[0]).toMatchObject({ col: 3, span: { start: 0x4200_0000, end: 0x4400_0000 } });
    expect(o[0]?.message).toContain("domU2");
    const issues = buildIssues(overlapMap());
    expect(issues.map((i) => [i.n, i.code])).toEqual([
      [1, "SSHM-DOMIO-LEAK"],
      [2, "overlap"],
    ]);
  });

  it("flags two host regions overlapping, and frames backing two different things", () => {
    const map = bootingMap();
    map.host.push({ kind: "reserved", start: 0x6000_0000, size: 0x1000, label: "fw" });
    map.domains[1]!.mappings[0]!.hstart = 0x1000_0000; // domU1 RAM onto my-shared-mem-0's frames
    const o = findOverlaps(map);
    expect(o.map((x) => [x.col, x.span.start, x.span.end])).toEqual([
      [0, 0x6000_0000, 0x6000_1000],
      [0, 0x1000_0000, 0x1800_0000],
    ]);
    expect(o[0]?.message).toContain("reserved fw");
    expect(o[1]?.message).toContain("domU1 ram");
  });

  it("does not add a list entry for an overlap an overlap warning already marks", () => {
    const map = overlapMap();
    map.warnings.push({
      code: "B9",
      message: "shm overlaps guest RAM: the foreign mapping replaces it",
      guest: [{ domain: "domU2", range: { start: 0x4200_0000, size: 0x1000 } }],
    });
    const issues = buildIssues(map);
    expect(issues.map((i) => i.code)).toEqual(["SSHM-DOMIO-LEAK", "B9"]);
    expect(issues[1]?.marks).toContainEqual({ col: 3, start: 0x4200_0000, end: 0x4400_0000, overlap: true });
  });

  it("lists an overlap separately when the warning on that range is about something else", () => {
    const map = bootingMap();
    map.host.push({ kind: "reserved", start: 0x5800_0000, size: 0x1000, label: "fw" });
    const issues = buildIssues(map);
    expect(issues.map((i) => [i.n, i.code, i.derived])).toEqual([
      [1, "SSHM-DOMIO-LEAK", false],
      [2, "overlap", true],
    ]);
    expect(issues[1]?.marks).toEqual([{ col: 0, start: 0x5800_0000, end: 0x5800_1000, overlap: true }]);
  });

  it("marks a warning by its node when it gives no ranges", () => {
    const map = bootingMap();
    map.warnings = [{ code: "X", message: "m", node: "/chosen/domU2/domU2-shared-mem-2" }];
    expect(buildIssues(map)[0]?.marks).toEqual([{ col: 3, start: 0x9000_0000, end: 0xb000_0000 }]);
    map.warnings = [{ code: "X", message: "m", node: "/nowhere" }];
    expect(buildIssues(map)[0]?.marks).toEqual([]);
  });
});

describe("model checks", () => {
  const bad = (f: (m: MemoryMap) => void) => {
    const m = bootingMap();
    f(m);
    try {
      validateMap(m);
    } catch (e) {
      expect(isSshmError(e) && e.code).toBe("EMAP_MODEL");
      return (e as Error).message;
    }
    throw new Error("accepted a bad model");
  };
  it("rejects negative, fractional and beyond-2^53 ranges and unknown verdicts", () => {
    expect(
      bad((m) => {
        m.host[0]!.size = -1;
      }),
    ).toContain("RAM bank 0");
    expect(
      bad((m) => {
        m.domains[1]!.mappings[1]!.gstart = 0.5;
      }),
    ).toContain("domU1 mapping 1 guest range");
    expect(
      bad((m) => {
        m.domains[0]!.mappings[0]!.hstart = 2 ** 53;
      }),
    ).toContain("Dom0");
    expect(
      bad((m) => {
        m.warnings[0]!.host = [{ start: -4096, size: 1 }];
      }),
    ).toContain("SSHM-DOMIO-LEAK");
    expect(
      bad((m) => {
        (m as { verdict: string }).verdict = "ok";
      }),
    ).toContain("verdict");
    expect(() => validateMap(bootingMap())).not.toThrow();
  });
});

/** The gutter router on its own: bus levels, track colouring and the points of a line. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUS_CLEAR, placeRoute, planRoutes, type RouteRequest, TRACK_SP } from "../../src/map/route.js";

const req = (r: Partial<RouteRequest> & Pick<RouteRequest, "col">): RouteRequest => ({
  hy: 50,
  gy: 50,
  side: "left",
  dx: 0,
  ...r,
});

/** Columns 100 px wide with 100 px gutters; track t of gutter g at 10 + 6t past the column. */
const COLS = {
  x: [0, 200, 400, 600],
  w: [100, 100, 100, 100],
  trackX: (g: number, t: number) => 100 + 200 * g + 10 + 6 * t,
};

describe("planRoutes and placeRoute", () => {
  it("runs a line into the next column through gutter 0 alone", () => {
    const plan = planRoutes([req({ col: 1, hy: 30, gy: 80 })], [300, 100, 100, 100]);
    const l = plan.lines[0]!;
    expect(l.bus).toBeUndefined();
    expect(placeRoute(l, COLS)).toEqual([
      { x: 100, y: 30 },
      { x: 110, y: 30 },
      { x: 110, y: 80 },
      { x: 200, y: 80 },
    ]);
  });

  it("passes columns 1..k-1 below their last range, and enters a last lane from its right", () => {
    const bottoms = [300, 120, 90, 60];
    const plan = planRoutes(
      [req({ col: 3, hy: 10, gy: 20 }), req({ col: 2, gy: 30, side: "right", dx: 100 })],
      bottoms,
    );
    const [a, b] = plan.lines;
    // Both pass under columns 1 and 2; the right entry rises first, nearer column 2, so it rides higher.
    expect(b!.bus).toBe(120 + BUS_CLEAR);
    expect(a!.bus).toBe(120 + BUS_CLEAR + TRACK_SP);
    const [x0a, x2a] = [COLS.trackX(0, a!.verticals[0]!.track), COLS.trackX(2, a!.verticals[1]!.track)];
    expect(placeRoute(a!, COLS)).toEqual([
      { x: 100, y: 10 },
      { x: x0a, y: 10 },
      { x: x0a, y: 142 },
      { x: x2a, y: 142 },
      { x: x2a, y: 20 },
      { x: 600, y: 20 },
    ]);
    // The right entry into column 2 rises in gutter 2 left of a's track and enters leftwards.
    expect(COLS.trackX(2, b!.verticals[1]!.track)).toBeLessThan(x2a);
    const pts = placeRoute(b!, COLS);
    expect(pts[pts.length - 1]).toEqual({ x: 500, y: 30 });
    expect(pts[pts.length - 2]!.x).toBeGreaterThan(500);
  });

  it("keeps bus levels apart and never shares a track between overlapping runs", () => {
    const reqs = fc.array(
      fc.record({
        hy: fc.integer({ min: 0, max: 400 }),
        gy: fc.integer({ min: 0, max: 200 }),
        col: fc.integer({ min: 1, max: 4 }),
        side: fc.constantFrom("left" as const, "right" as const),
      }),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(
        reqs,
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 5, maxLength: 5 }),
        (rs, bottoms) => {
          const plan = planRoutes(
            rs.map((r) => ({ ...r, dx: 0 })),
            bottoms,
          );
          const buses = plan.lines.flatMap((l) => (l.bus === undefined ? [] : [l.bus]));
          const sorted = [...buses].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i++)
            expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(TRACK_SP);
          for (const l of plan.lines) {
            const passes = l.req.side === "left" ? l.req.col - 1 : l.req.col;
            expect(l.bus === undefined).toBe(passes === 0);
            for (let c = 1; c <= passes; c++) expect(l.bus!).toBeGreaterThanOrEqual(bottoms[c]! + BUS_CLEAR);
          }
          const runs = plan.lines.flatMap((l) => l.verticals);
          for (const a of runs)
            for (const b of runs)
              if (a !== b && a.gutter === b.gutter && a.track === b.track)
                expect(a.hi + TRACK_SP <= b.lo || b.hi + TRACK_SP <= a.lo).toBe(true);
          for (const r of runs) expect(r.track).toBeLessThan(plan.tracks[r.gutter]!);
        },
      ),
    );
  });
});

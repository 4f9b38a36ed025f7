/**
 * Connector routing for the memory-map picture: every line from the host column to a domain column
 * runs orthogonally through the gutters between columns and, to pass a column on its way, under that
 * column's last range, so no line is ever drawn over a box or an address label.
 *
 *   host ─┐ gutter 0            gutter k-1 ┌─▶ box in column k      (left entry)
 *         └──── bus, below columns 1..k-1 ─┘
 *
 * A line into column 1 needs no bus. A box in the last of several side-by-side lanes is entered from
 * its right side instead (the bus then passes under column k too, and rises in gutter k), so the line
 * does not cross the lanes to its left. Vertical runs in one gutter get their own tracks where their
 * spans overlap; bus runs all cross column 1, so each gets its own level.
 *
 * Planning needs only y positions (relative to the columns' top); placing the points also needs the
 * columns' x positions, which depend on how many tracks each gutter needs.
 */

/** Space between parallel runs: wider than the thickest line (2.5px) plus its dash pattern. */
export const TRACK_SP = 6;
/** Free space between a column edge and the first track, and after the last track. */
export const GUTTER_PAD = 10;
/** Vertical clearance between a column's last range (and its address label) and a bus run. */
export const BUS_CLEAR = 16;

export interface RouteRequest {
  /** Exit y on the host column's right edge. */
  hy: number;
  /** Target column, 1-based (0 is the host). */
  col: number;
  /** Entry y on the target box's edge. */
  gy: number;
  side: "left" | "right";
  /** x of the entry point from the target column's left edge (the box's left or right edge). */
  dx: number;
}

export interface Vertical {
  gutter: number;
  track: number;
  lo: number;
  hi: number;
}

export interface PlannedLine {
  req: RouteRequest;
  /** y of the bus run, when the line passes other columns. */
  bus: number | undefined;
  /** The line's vertical runs: in gutter 0 first, then in the gutter next to its target, if any. */
  verticals: Vertical[];
}

export interface RoutePlan {
  lines: PlannedLine[];
  /** Tracks used per gutter; gutter g lies right of column g (the last one is the right margin). */
  tracks: number[];
  /** Lowest y a bus reaches (0 when there is no bus). */
  bottom: number;
}

/** Greedy interval colouring: each span, in the order given, takes the lowest track it fits on. */
function colour(spans: readonly { lo: number; hi: number }[]): number[] {
  const ends: { lo: number; hi: number }[][] = [];
  return spans.map((s) => {
    let t = ends.findIndex((used) => used.every((u) => s.hi + TRACK_SP <= u.lo || u.hi + TRACK_SP <= s.lo));
    if (t < 0) {
      t = ends.length;
      ends.push([]);
    }
    ends[t]!.push(s);
    return t;
  });
}

/**
 * Plan every line: bus levels and gutter tracks. `bottoms[c]` is the lowest y anything of column c
 * reaches (its last range or label), for c = 0..n.
 */
export function planRoutes(reqs: readonly RouteRequest[], bottoms: readonly number[]): RoutePlan {
  const n = bottoms.length - 1;
  const lines: PlannedLine[] = reqs.map((req) => ({ req, bus: undefined, verticals: [] }));
  // Columns a line must pass under: 1..col-1 for a left entry, 1..col for a right one.
  const passes = (r: RouteRequest) => (r.side === "left" ? r.col - 1 : r.col);
  const bused = lines.filter((l) => passes(l.req) >= 1);
  // Bus levels: as close to the line's own ends as the passed columns allow, then spread apart.
  // Among lines wanting the same level, shorter ones go higher, so a rising line crosses none that
  // continue further; into one column, the line entering highest rides highest (no crossing at
  // the gutter), mirrored for right entries.
  const want = (l: PlannedLine) => {
    let base = 0;
    for (let c = 1; c <= passes(l.req); c++) base = Math.max(base, bottoms[c]! + BUS_CLEAR);
    return Math.max(base, Math.min(l.req.hy, l.req.gy));
  };
  // Ties: fewer columns passed first; among lines passing the same ones, the right entries into
  // the last of them (they rise nearest to it, so a bus continuing past them must run lower), then
  // the left entries into the next column, each by its entry as its gutter's tracks are ordered.
  const key = (r: RouteRequest) => [passes(r), r.side === "right" ? 0 : 1, r.side === "right" ? -r.gy : r.gy];
  const order = bused
    .map((l) => ({ l, y: want(l), k: key(l.req) }))
    .sort((a, b) => a.y - b.y || a.k[0]! - b.k[0]! || a.k[1]! - b.k[1]! || a.k[2]! - b.k[2]!);
  let prev = Number.NEGATIVE_INFINITY;
  for (const { l, y } of order) {
    l.bus = Math.max(y, prev + TRACK_SP);
    prev = l.bus;
  }

  // Gutter 0: every line's first vertical run, from its exit to its bus or its entry.
  const tracks = new Array<number>(n + 1).fill(0);
  const g0 = lines.map((l) => {
    const to = l.bus ?? l.req.gy;
    return { lo: Math.min(l.req.hy, to), hi: Math.max(l.req.hy, to) };
  });
  const t0 = colour(g0);
  lines.forEach((l, i) => {
    l.verticals.push({ gutter: 0, track: t0[i]!, ...g0[i]! });
  });
  tracks[0] = Math.max(0, ...t0.map((t) => t + 1));

  // Gutter g ≥ 1: right entries into column g keep to its side (tracks from the left, the lowest
  // entry nearest the column), left entries into column g + 1 after them (the highest entry first).
  for (let g = 1; g <= n; g++) {
    const right = bused.filter((l) => l.req.side === "right" && l.req.col === g);
    const left = bused.filter((l) => l.req.side === "left" && l.req.col === g + 1);
    right.sort((a, b) => b.req.gy - a.req.gy);
    left.sort((a, b) => a.req.gy - b.req.gy);
    const span = (l: PlannedLine) => ({ lo: Math.min(l.bus!, l.req.gy), hi: Math.max(l.bus!, l.req.gy) });
    const tr = colour(right.map(span));
    const nr = Math.max(0, ...tr.map((t) => t + 1));
    const tl = colour(left.map(span));
    right.forEach((l, i) => {
      l.verticals.push({ gutter: g, track: tr[i]!, ...span(l) });
    });
    left.forEach((l, i) => {
      l.verticals.push({ gutter: g, track: nr + tl[i]!, ...span(l) });
    });
    tracks[g] = nr + Math.max(0, ...tl.map((t) => t + 1));
  }
  return { lines, tracks, bottom: Math.max(0, ...bused.map((l) => l.bus!)) };
}

export interface Point {
  x: number;
  y: number;
}

/** Where the columns ended up: their left edges and widths, and each gutter's first track. */
export interface PlacedColumns {
  x: readonly number[];
  w: readonly number[];
  /** x of track t in gutter g. */
  trackX(g: number, t: number): number;
}

/** The points of one planned line, from the host edge to the box edge, without repeats. */
export function placeRoute(l: PlannedLine, cols: PlacedColumns): Point[] {
  const { req } = l;
  const hx = cols.x[0]! + cols.w[0]!;
  const ex = cols.x[req.col]! + req.dx;
  const v0 = l.verticals[0]!;
  const x0 = cols.trackX(0, v0.track);
  const pts: Point[] = [
    { x: hx, y: req.hy },
    { x: x0, y: req.hy },
  ];
  if (l.bus === undefined) pts.push({ x: x0, y: req.gy });
  else {
    const v1 = l.verticals[1]!;
    const x1 = cols.trackX(v1.gutter, v1.track);
    pts.push({ x: x0, y: l.bus }, { x: x1, y: l.bus }, { x: x1, y: req.gy });
  }
  pts.push({ x: ex, y: req.gy });
  // Drop repeated points and the middle of straight runs (a direct line at one height is one segment).
  const out: Point[] = [];
  for (const p of pts) {
    const a = out[out.length - 2];
    const b = out[out.length - 1];
    if (b && b.x === p.x && b.y === p.y) continue;
    if (a && b && ((a.x === b.x && b.x === p.x) || (a.y === b.y && b.y === p.y))) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/**
 * The map as a user sees it: the HTML page rendered by Debian's headless Chromium. A screenshot is
 * decoded and checked for size, content and the shm colours; the DOM after the inline script ran is
 * checked for every region id. Chromium is a CI requirement (.ci/run installs it): missing, these
 * tests fail rather than skip.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadSystem } from "../../src/cli/input.js";
import { toMemoryMap } from "../../src/cli/map-model.js";
import { type MemoryMap, PALETTE, renderHtml, renderSvg } from "../../src/map/index.js";
import { bootingMap, IDS, mappingCount } from "./example.js";
import { colourSet, countColour, decodePng } from "./png.js";

const CHROMIUM = "/usr/bin/chromium";
const TIMEOUT = 30_000;
const WIDTH = 1400;
const HEIGHT = 1000;

const dir = mkdtempSync(join(tmpdir(), "sshm-map-chromium-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let profiles = 0;

/** Run headless Chromium on `file` with one extra flag; a fresh profile each time. */
function chromium(file: string, flag: string): Promise<string> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Debian's chromium is not installed (${CHROMIUM} missing); the map tests render the HTML in it. ` +
        "Install it with `apt-get update && apt-get install -y chromium` (or run .ci/run).",
    );
  const profile = join(dir, `profile-${++profiles}`);
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    "--hide-scrollbars",
    flag,
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: TIMEOUT - 5000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

const decode = (s: string) =>
  s.replace(
    /&(lt|gt|quot|#39|amp);/g,
    (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e] ?? "",
  );

describe("the HTML map in headless Chromium", () => {
  const page = join(dir, "booting.html");
  writeFileSync(page, renderHtml(bootingMap()));

  it(
    "takes a non-empty screenshot showing every shm colour and the red warning marker",
    async () => {
      const png = join(dir, "booting.png");
      await chromium(page, `--screenshot=${png}`);
      const img = decodePng(readFileSync(png));
      expect([img.width, img.height]).toEqual([WIDTH, HEIGHT]);
      const colours = colourSet(img);
      expect(colours.size, "a blank or single-colour screenshot").toBeGreaterThan(50);
      IDS.forEach((id, k) => {
        expect(countColour(img, PALETTE[k]!), `pixels of ${id}'s colour`).toBeGreaterThan(2000);
      });
      expect(countColour(img, "#d9d9d9"), "RAM grey").toBeGreaterThan(2000);
      expect(countColour(img, "#d62728"), "warning red").toBeGreaterThan(50);
    },
    TIMEOUT,
  );

  it(
    "has every region id in the rendered DOM, after the inline script ran",
    async () => {
      const dom = await chromium(page, "--dump-dom");
      expect(dom).toMatch(/<body[^>]*data-ready="1"/);
      const text = decode(dom.replace(/<[^>]*>/g, " "));
      for (const id of IDS) expect(text, id).toContain(id);
      expect(dom.match(/<path class="map-line/g)).toHaveLength(mappingCount(bootingMap()));
      expect(dom).toContain('<div id="tip" hidden=""></div>');
    },
    TIMEOUT,
  );

  it(
    "renders a standalone SVG with hostile ids without an XML error",
    async () => {
      const map = bootingMap();
      map.host[1]!.id = 'a<b&c"d';
      for (const d of map.domains)
        for (const m of d.mappings) if (m.id === "my-shared-mem-0") m.id = 'a<b&c"d';
      const svg = join(dir, "hostile.svg");
      writeFileSync(svg, renderSvg(map));
      const dom = await chromium(svg, "--dump-dom");
      expect(dom).not.toContain("parsererror");
      expect(dom).not.toContain("This page contains the following errors");
      expect(decode(dom.replace(/<[^>]*>/g, " "))).toContain('a<b&c"d');
      expect(dom).toContain("my-shared-mem-2");
    },
    TIMEOUT,
  );
});

/**
 * Appended to a page under test: after layout, the page box of every domain column (its head and
 * its boxes) and of the legend, the viewport and the page's scroll size, as JSON in <pre id="geom">.
 */
const GEOMETRY = `<script>
(function () {
  function union(els) {
    var r = null;
    els.forEach(function (e) {
      var b = e.getBoundingClientRect();
      if (!r) r = { left: b.left, top: b.top, right: b.right, bottom: b.bottom };
      else {
        r.left = Math.min(r.left, b.left); r.top = Math.min(r.top, b.top);
        r.right = Math.max(r.right, b.right); r.bottom = Math.max(r.bottom, b.bottom);
      }
    });
    return r;
  }
  var cols = {};
  document.querySelectorAll("svg [data-col]").forEach(function (e) {
    var k = e.getAttribute("data-col");
    (cols[k] = cols[k] || []).push(e);
  });
  var out = {
    viewport: { width: window.innerWidth, height: window.innerHeight },
    scrollWidth: document.documentElement.scrollWidth,
    columns: Object.keys(cols).map(function (k) { return { col: Number(k), box: union(cols[k]) }; }),
    legend: union(Array.prototype.slice.call(document.querySelectorAll("svg .legend-item"))),
    svg: union([document.querySelector("svg.sshm-map")]),
    svgWidth: Number(document.querySelector("svg.sshm-map").getAttribute("width"))
  };
  var pre = document.createElement("pre");
  pre.id = "geom";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`;

interface Geometry {
  viewport: { width: number; height: number };
  scrollWidth: number;
  columns: { col: number; box: { left: number; right: number; top: number; bottom: number } }[];
  legend: { left: number; right: number };
  svg: { left: number; right: number };
  svgWidth: number;
}

async function geometry(name: string, map: MemoryMap): Promise<Geometry> {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, renderHtml(map).replace("</body>", `${GEOMETRY}</body>`));
  const dom = await chromium(file, "--dump-dom");
  const json = dom.match(/<pre id="geom">([^<]*)<\/pre>/)?.[1];
  if (json === undefined) throw new Error(`no geometry in the dumped page of ${name}`);
  return JSON.parse(decode(json)) as Geometry;
}

function xlMap(): MemoryMap {
  const files = ["examples/xl/vm1.cfg", "examples/xl/vm2.cfg", "examples/xl/vm3.cfg"];
  const loaded = loadSystem(files);
  return { ...toMemoryMap(loaded.report, loaded.layout), title: `xl create ${files.join(" ")}` };
}

describe("the HTML map fits a 1400 px window", () => {
  it(
    "shows every column of the xl example (Dom0 + 3 domains) and the whole legend, unscaled enough to read",
    async () => {
      const g = await geometry("xl", xlMap());
      expect(g.viewport.width).toBe(WIDTH);
      expect(g.scrollWidth, "the page scrolls sideways").toBeLessThanOrEqual(WIDTH);
      expect(g.columns.map((c) => c.col)).toEqual([0, 1, 2, 3, 4]);
      for (const c of g.columns) {
        expect(c.box.left, `column ${c.col} left`).toBeGreaterThanOrEqual(0);
        expect(c.box.right, `column ${c.col} right`).toBeLessThanOrEqual(WIDTH);
      }
      expect(g.legend.left).toBeGreaterThanOrEqual(0);
      expect(g.legend.right).toBeLessThanOrEqual(WIDTH);
      // Drawn at (nearly) its natural size: text stays as large as the picture was laid out.
      expect((g.svg.right - g.svg.left) / g.svgWidth).toBeGreaterThan(0.9);
    },
    TIMEOUT,
  );

  it(
    "shrinks a picture of seven domains to the page width rather than cutting it",
    async () => {
      const map = bootingMap();
      const extra = [3, 4, 5, 6].map((k) => ({ ...map.domains[2]!, name: `domU${k}`, domid: k }));
      map.domains.push(...extra);
      const g = await geometry("seven", map);
      expect(g.scrollWidth).toBeLessThanOrEqual(WIDTH);
      expect(g.columns).toHaveLength(8);
      for (const c of g.columns) expect(c.box.right, `column ${c.col}`).toBeLessThanOrEqual(WIDTH);
      expect(g.legend.right).toBeLessThanOrEqual(WIDTH);
      expect(g.svg.right - g.svg.left).toBeLessThan(g.svgWidth);
    },
    TIMEOUT,
  );
});

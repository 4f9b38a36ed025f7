/** The HTML page: self-contained, the SVG inline with data-tip details, warnings list, tables. */
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../src/map/index.js";
import { bootingMap, IDS, mappingCount, overlapMap } from "./example.js";
import { all, byClass, hasClass, parseXml, textOf } from "./xml.js";

/** The inline SVG cut out of the page; it is XML even inside HTML. */
function svgOf(html: string) {
  const s = html.indexOf("<svg ");
  const e = html.indexOf("</svg>");
  expect(s).toBeGreaterThan(0);
  return parseXml(html.slice(s, e + 6));
}

const decode = (s: string) =>
  s.replace(
    /&(lt|gt|quot|#39|amp);/g,
    (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e] ?? "",
  );

describe("renderHtml", () => {
  const html = renderHtml(bootingMap());

  it("is one page with inline CSS and JS and nothing fetched", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html.match(/<style>/g)).toHaveLength(2); // the page's and the SVG's
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/);
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|@import|src=/);
    expect(html.match(/https?:\/\/[^"]*/g)).toEqual(["http://www.w3.org/2000/svg"]);
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
  });

  it("embeds the SVG with data-tip on every range and every line, and no <title> tooltips", () => {
    const svg = svgOf(html);
    const lines = byClass(svg, "map-line");
    expect(lines).toHaveLength(mappingCount(bootingMap()));
    for (const l of lines) expect(l.attrs.get("data-tip")).toMatch(/^(Dom0|domU1|domU2) \(d\d\) · /);
    const regions = byClass(svg, "region");
    expect(regions).toHaveLength(bootingMap().host.length);
    for (const g of [...regions, ...byClass(svg, "mapping")]) expect(g.attrs.has("data-tip")).toBe(true);
    // Only the document title remains; per-element <title>s would double the tooltip.
    expect(all(svg).filter((e) => e.name === "title")).toHaveLength(1);
  });

  it("links each mapping to the host region it lands in for hover highlighting", () => {
    const svg = svgOf(html);
    const m = byClass(svg, "mapping").find((g) =>
      (g.attrs.get("data-tip") ?? "").startsWith("domU2 (d2) · shm my-shared-mem-1"),
    );
    const target = m?.attrs.get("data-links");
    expect(target).toMatch(/^h\d+$/);
    const host = byClass(svg, "region").find((g) => g.attrs.get("data-key") === target);
    expect(host?.attrs.get("data-tip")).toMatch(/^shm my-shared-mem-1\n/);
    const line = byClass(svg, "map-line").find((l) => l.attrs.get("data-key") === m?.attrs.get("data-key"));
    expect(line?.attrs.get("data-links")).toBe(target);
  });

  it("puts every id, the warnings list and a table row per region and mapping in the page text", () => {
    const text = decode(html.replace(/<[^>]*>/g, " "));
    for (const id of IDS) expect(text).toContain(id);
    expect(html.match(/<li id="w\d+" class="warning"/g)).toHaveLength(1);
    expect(text).toContain("SSHM-DOMIO-LEAK");
    const rows = html.match(/<tr data-key="[hm][\d-]+"/g) ?? [];
    expect(rows).toHaveLength(bootingMap().host.length + mappingCount(bootingMap()));
    for (const h of ["Host regions", "Domains", "Dom0 (d0) · direct-mapped", "domU1 (d1)", "domU2 (d2)"])
      expect(text).toContain(h);
    const tip = decode(html.match(/<tr data-key="m2-2"[^>]*data-tip="([^"]*)"/)?.[1] ?? "");
    expect(tip).toContain("p2m type: p2m_map_foreign_rw");
    expect(tip).toContain("blocks: 256x2M");
    expect(tip).toContain("region owner: domU1");
  });

  it("lists derived overlaps with their numbers and marks them in the picture", () => {
    const page = renderHtml(overlapMap());
    expect(page.match(/<li id="w\d+" class="warning"/g)).toHaveLength(2);
    expect(page).toContain(
      '<li id="w2" class="warning" data-n="2"><span class="num">2</span><code>overlap</code>',
    );
    const svg = svgOf(page);
    expect(byClass(svg, "overlap").map((e) => e.attrs.get("data-n"))).toEqual(["2"]);
    expect(byClass(svg, "mnum").map(textOf)).toEqual(["1", "2"]);
    expect(all(svg).some((e) => hasClass(e, "warning"))).toBe(false); // the list is HTML here
  });

  it("escapes ids, labels and titles", () => {
    const map = bootingMap();
    map.title = "</title><script>alert(1)</script>";
    map.host[1]!.id = '"><img src=x>';
    const page = renderHtml(map);
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    svgOf(page);
  });
});

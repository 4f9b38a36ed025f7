/** The SVG picture: well-formed XML, every id, one line per mapping, roles, markers, overlaps, escaping. */
import { describe, expect, it } from "vitest";
import { PALETTE, renderSvg } from "../../src/map/index.js";
import type { MemoryMap } from "../../src/map/model.js";
import { bootingMap, IDS, mappingCount, overlapMap } from "./example.js";
import { all, byClass, hasClass, parseXml, textOf, type XmlElement } from "./xml.js";

const attr = (e: XmlElement | undefined, a: string) => e?.attrs.get(a);
const num = (e: XmlElement | undefined, a: string) => Number(attr(e, a));

/** Region or mapping group whose label (first <text>) is `label` and class includes `cls`. */
function groups(root: XmlElement, cls: string, label: string): XmlElement[] {
  return byClass(root, cls).filter((g) => {
    const t = g.children.find((c): c is XmlElement => typeof c !== "string" && c.name === "text");
    return t !== undefined && textOf(t) === label;
  });
}
const rectOf = (g: XmlElement | undefined) =>
  g?.children.find((c): c is XmlElement => typeof c !== "string" && c.name === "rect");
/** Mapping groups of one domain and id, found by their tooltip (labels may be cut to fit). */
const mappingsOf = (root: XmlElement, domain: string, what: string) =>
  byClass(root, "mapping").filter((g) => new RegExp(`^${domain} \\(d\\d+\\) · ${what}\n`).test(titleOf(g)));
const titleOf = (g: XmlElement | undefined) =>
  textOf(
    g?.children.find((c): c is XmlElement => typeof c !== "string" && c.name === "title") ?? parseXml("<t/>"),
  );

describe("renderSvg on the booting.txt example", () => {
  const svg = renderSvg(bootingMap());
  const root = parseXml(svg);

  it("is a well-formed standalone SVG document", () => {
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(root.name).toBe("svg");
    expect(attr(root, "xmlns")).toBe("http://www.w3.org/2000/svg");
    expect(num(root, "width")).toBeGreaterThan(800);
    expect(num(root, "height")).toBeGreaterThan(400);
    // Self-contained: the only URL is the SVG namespace; fills reference local patterns only.
    expect(svg.match(/https?:\/\/[^"]*/g)).toEqual(["http://www.w3.org/2000/svg"]);
    for (const u of svg.match(/url\(#([^)]+)\)/g) ?? []) {
      const id = u.slice(5, -1);
      expect(
        all(root).some((e) => attr(e, "id") === id),
        `pattern ${id} defined`,
      ).toBe(true);
    }
  });

  it("shows the title, the verdict and each shm id as text", () => {
    const text = textOf(root);
    expect(text).toContain("booting.txt static shared memory example");
    expect(byClass(root, "verdict-badge").map((e) => attr(e, "data-verdict"))).toEqual(["accepted"]);
    expect(text).toContain("ACCEPTED");
    for (const id of IDS) expect(groups(root, "region", id), `host region ${id}`).toHaveLength(1);
    expect(groups(root, "mapping", "my-shared-mem-0")).toHaveLength(2);
    expect(groups(root, "mapping", "my-shared-mem-1")).toHaveLength(2);
    expect(groups(root, "mapping", "my-shared-mem-2")).toHaveLength(2);
    for (const n of ["Host physical memory", "Dom0 (d0)", "domU1 (d1)", "domU2 (d2)"])
      expect(text).toContain(n);
  });

  it("puts the host column left and the domain columns to its right, in order", () => {
    const x = (label: string, cls: string) => num(rectOf(groups(root, cls, label)[0]), "x");
    const host = x("my-shared-mem-1", "region");
    const [d0, d1, d2] = [
      num(rectOf(byClass(root, "mapping")[0]), "x"),
      num(rectOf(groups(root, "mapping", "my-shared-mem-1")[0]), "x"),
      num(rectOf(groups(root, "mapping", "my-shared-mem-1")[1]), "x"),
    ];
    expect(host).toBeLessThan(d0);
    expect(d0).toBeLessThan(d1);
    expect(d1).toBeLessThan(d2);
  });

  it("labels addresses at range boundaries in short form", () => {
    const labels = byClass(root, "addr").map(textOf);
    for (const a of [
      "0x10000000",
      "0x20000000",
      "0x50000000",
      "0x70000000",
      "0x80000000",
      "0xa0000000",
      "0xc0000000",
    ])
      expect(labels).toContain(a);
    expect(labels.every((l) => /^0x[0-9a-f]+$/.test(l))).toBe(true);
    expect(labels).not.toContain("0x0000000010000000");
  });

  it("keeps a 4 KiB module visible next to a 2.75 GiB RAM bank", () => {
    const page = rectOf(groups(root, "region", "domU2 kernel")[0]);
    const ram = rectOf(byClass(root, "ram").find((g) => hasClass(g, "region")));
    expect(num(page, "height")).toBeGreaterThanOrEqual(14);
    expect(num(ram, "height")).toBeGreaterThan(10 * num(page, "height"));
  });

  it("draws one line per mapping, orthogonal with rounded corners, coloured by id", () => {
    const lines = byClass(root, "map-line");
    expect(lines).toHaveLength(mappingCount(bootingMap()));
    expect(new Set(lines.map((l) => attr(l, "data-mapping"))).size).toBe(lines.length);
    for (const l of lines)
      expect(attr(l, "d")).toMatch(
        /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+Q[\d.]+ [\d.]+ [\d.]+ [\d.]+)*L[\d.]+ [\d.]+$/,
      );
    const colourOf = (id: string) =>
      new Set(lines.filter((l) => titleOf(l).includes(`shm ${id}`)).map((l) => attr(l, "stroke")));
    const c = IDS.map(colourOf);
    for (const s of c) expect(s.size).toBe(1);
    expect(new Set(c.map((s) => [...s][0])).size).toBe(3);
    expect(lines.filter((l) => hasClass(l, "ram"))).toHaveLength(3);
  });

  it("fills each shm region with its palette colour", () => {
    IDS.forEach((id, k) => {
      expect(attr(rectOf(groups(root, "region", id)[0]), "fill")).toBe(PALETTE[k]);
      for (const g of groups(root, "mapping", id)) expect(attr(rectOf(g), "fill")).toBe(PALETTE[k]);
    });
  });

  it("marks owners solid, borrowers dashed and the dom_io-owned region dotted", () => {
    const mem0 = groups(root, "mapping", "my-shared-mem-0");
    expect(mem0.map((g) => hasClass(g, "owner"))).toEqual([true, false]);
    expect(attr(rectOf(mem0[0]), "stroke-dasharray")).toBeUndefined();
    expect(attr(rectOf(mem0[1]), "stroke-dasharray")).toBe("6 3");
    for (const g of groups(root, "mapping", "my-shared-mem-1")) {
      expect(hasClass(g, "dom_io-borrower")).toBe(true);
      expect(attr(rectOf(g), "stroke-dasharray")).toBe("9 3 2 3");
    }
    const io = groups(root, "region", "my-shared-mem-1")[0];
    expect(hasClass(io!, "dom_io")).toBe(true);
    expect(attr(rectOf(io), "stroke-dasharray")).toBe("2 2");
    expect(attr(rectOf(groups(root, "region", "my-shared-mem-0")[0]), "stroke-dasharray")).toBeUndefined();
    const lines = byClass(root, "map-line");
    const borrowerLines = lines.filter((l) => titleOf(l).includes("role: borrower"));
    expect(borrowerLines).toHaveLength(2);
    for (const l of borrowerLines) expect(attr(l, "stroke-dasharray")).toBe("7 4");
    for (const l of lines.filter((l) => titleOf(l).includes("role: owner")))
      expect(attr(l, "stroke-dasharray")).toBeUndefined();
    const legend = byClass(root, "legend").map(textOf);
    for (const t of ["owner", "borrower", "dom_io-owned region", "borrower of a dom_io-owned region"])
      expect(legend).toContain(t);
  });

  it("carries hover details in <title>: range, owner, borrowers, p2m type, blocks, source", () => {
    const region = titleOf(groups(root, "region", "my-shared-mem-1")[0]);
    expect(region).toContain("[0x50000000, 0x70000000) 512 MiB");
    expect(region).toContain("owner: d[IO] (dom_io)");
    expect(region).toContain("borrowers: domU1, domU2");
    expect(region).toContain("page refcount: 3");
    const m = titleOf(groups(root, "mapping", "my-shared-mem-2")[1]);
    for (const s of [
      "domU2 (d2)",
      "role: borrower",
      "guest [0x90000000, 0xb0000000)",
      "host [0x80000000, 0xa0000000)",
      "region owner: domU1",
      "p2m type: p2m_map_foreign_rw",
      "blocks: 256x2M",
      "source: /chosen/domU2/domU2-shared-mem-2",
    ])
      expect(m).toContain(s);
  });

  it("highlights the warning in red with marker 1 and lists it below the picture", () => {
    const areas = byClass(root, "warn-area");
    expect(areas.map((a) => attr(a, "data-n"))).toEqual(["1"]);
    expect(attr(areas[0], "stroke")).toBe("#d62728");
    // The red area covers exactly the host range of my-shared-mem-1 (3px wider each side).
    const r = rectOf(groups(root, "region", "my-shared-mem-1")[0]);
    expect(num(areas[0], "y")).toBeCloseTo(num(r, "y"), 5);
    expect(num(areas[0], "height")).toBeCloseTo(num(r, "height"), 5);
    expect(byClass(root, "mnum").map(textOf)).toEqual(["1", "1"]); // on the picture and in the list
    const list = byClass(root, "warning").map(textOf).join(" ");
    expect(list).toContain("SSHM-DOMIO-LEAK: my-shared-mem-1 is owned by dom_io");
    expect(list).toContain("(node /chosen/domU1/domU1-shared-mem@50000000)");
    expect(byClass(root, "overlap")).toEqual([]);
  });

  it("draws gaps as ≈ breaks", () => {
    const breaks = byClass(root, "break").map(textOf);
    expect(breaks).toContain("≈ 128 MiB gap"); // domU1: RAM ends 0x48000000, shm starts 0x50000000
    expect(breaks).toContain("≈ 704 MiB gap"); // domU2: 0x44000000 .. 0x70000000
  });
});

describe("renderSvg flags overlaps", () => {
  it("highlights a guest range overlapping RAM in that domain's column with its own number", () => {
    const root = parseXml(renderSvg(overlapMap()));
    const ov = byClass(root, "overlap");
    expect(ov).toHaveLength(1);
    expect(attr(ov[0], "data-n")).toBe("2");
    const d2 = mappingsOf(root, "domU2", "shm my-shared-mem-2")[0];
    const ram2 = mappingsOf(root, "domU2", "RAM")[0];
    // Side by side in lanes, and the red area spans the column over the intersection.
    expect(num(rectOf(d2), "x")).toBeGreaterThan(num(rectOf(ram2), "x"));
    expect(num(ov[0], "x")).toBeLessThanOrEqual(num(rectOf(ram2), "x"));
    expect(num(ov[0], "y")).toBeCloseTo(num(rectOf(d2), "y"), 5);
    expect(byClass(root, "mnum").map(textOf)).toEqual(["1", "2", "1", "2"]);
    expect(byClass(root, "warning").map(textOf).join(" ")).toContain("overlap: domU2: guest ranges overlap");
  });

  it("highlights overlapping host regions", () => {
    const map = bootingMap();
    map.host.push({ kind: "reserved", start: 0x5800_0000, size: 0x1000_0000, label: "/reserved-memory/fw" });
    const root = parseXml(renderSvg(map));
    const ov = byClass(root, "overlap");
    expect(ov).toHaveLength(1);
    expect(attr(ov[0], "data-n")).toBe("2");
    const [shm, fw] = ["shm my-shared-mem-1\n", "reserved: /reserved-memory/fw\n"].map((t) =>
      byClass(root, "region").filter((g) => titleOf(g).startsWith(t)),
    );
    expect(shm).toHaveLength(1);
    expect(fw).toHaveLength(1);
    // Side by side in two lanes, under one red area across the column.
    expect(num(rectOf(fw![0]), "x")).toBeGreaterThan(num(rectOf(shm![0]), "x"));
    expect(num(ov[0], "x")).toBeLessThan(num(rectOf(shm![0]), "x"));
    expect(num(ov[0], "y")).toBeCloseTo(num(rectOf(fw![0]), "y"), 5);
    expect(byClass(root, "warning").map(textOf).join(" ")).toContain("reserved /reserved-memory/fw");
  });

  it("shows a verdict other than accepted, and a warning that marks nothing next to the title", () => {
    const map: MemoryMap = {
      ...bootingMap(),
      verdict: "crash",
      warnings: [{ code: "B7", message: "empty id" }],
    };
    const root = parseXml(renderSvg(map));
    expect(byClass(root, "verdict-badge").map((e) => attr(e, "data-verdict"))).toEqual(["crash"]);
    expect(textOf(root)).toContain("XEN CRASH");
    expect(byClass(root, "marker")).toHaveLength(2);
    expect(byClass(root, "warn-area")).toEqual([]);
  });
});

describe("renderSvg escapes text", () => {
  const evil = "a<b&c\"d'e";
  const map = bootingMap();
  map.title = `<script>&"title"`;
  map.host[1]!.id = evil;
  map.host[1]!.label = `label ${evil}`;
  map.host[0]!.label = "RAM </text> & co";
  for (const d of map.domains) for (const m of d.mappings) if (m.id === "my-shared-mem-0") m.id = evil;
  map.domains[2]!.name = 'dom"U2<';
  map.warnings[0]!.message = "bad <b>&amp;</b> \u0001 control";
  const svg = renderSvg(map);

  it("stays well-formed and shows the original text", () => {
    const root = parseXml(svg);
    const text = textOf(root);
    expect(text).toContain(`<script>&"title"`);
    expect(groups(root, "region", evil)).toHaveLength(1);
    expect(groups(root, "mapping", evil)).toHaveLength(2);
    expect(text).toContain('dom"U2< (d2)');
    expect(text).toContain("bad <b>&amp;</b> \ufffd control");
    expect(text).toContain("RAM </text> & co");
    expect(svg).not.toContain("<script>");
    expect(svg).not.toContain("\u0001");
    expect(attr(root, "aria-label")).toBe(`<script>&"title"`);
  });
});

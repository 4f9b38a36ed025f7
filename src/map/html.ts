/**
 * The memory map as one self-contained HTML page: the SVG inline, hover tooltips and cross-
 * highlighting from a small inline script, the numbered warnings list and tables of the host
 * regions and every domain's mappings. No external resources, so the page works offline and can be
 * attached to a bug report as is.
 */

import { hostTip, mappingKey, mappingTip, prepare } from "./drawing.js";
import { regionId } from "./layout.js";
import type { MemoryMap } from "./model.js";
import { drawSvg } from "./svg.js";
import { addr, approxSize, esc } from "./text.js";

const CSS = `
*{box-sizing:border-box}
body{margin:0;padding:16px 24px 40px;font:14px/1.4 "DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:16px;margin:24px 0 8px}
h3{font-size:14px;margin:16px 0 6px}
.verdict{display:inline-block;padding:2px 10px;border-radius:11px;color:#fff;font-weight:bold;font-size:12px;vertical-align:middle;margin-left:8px}
.v-accepted{background:#2e7d32}.v-rejected{background:#d62728}.v-crash{background:#6a1b9a}
.picture{overflow:auto;border:1px solid #ddd;background:#fff;max-width:100%}
.picture svg{display:block}
ol.warnings{padding-left:0;list-style:none}
ol.warnings li{margin:4px 0;padding:4px 8px;border-left:4px solid #d62728;background:#fff}
.num{display:inline-block;min-width:20px;height:20px;border-radius:10px;background:#d62728;color:#fff;font-weight:bold;font-size:12px;text-align:center;line-height:20px;margin-right:6px}
code{font:12px "DejaVu Sans Mono",Menlo,Consolas,monospace}
table{border-collapse:collapse;background:#fff;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.a{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:nowrap}
.sw{display:inline-block;width:12px;height:12px;border:1px solid #555;vertical-align:middle;margin-right:4px}
#tip{position:fixed;z-index:10;pointer-events:none;max-width:460px;padding:6px 9px;background:#222;color:#fff;font:12px/1.45 "DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:pre-wrap;border-radius:4px;box-shadow:0 2px 8px rgba(0,0,0,.3)}
svg .hl rect{stroke:#000;stroke-width:3px}
svg path.hl{stroke-width:5px;stroke-opacity:1}
tr.hl td{background:#fff3c4}
[data-tip]{cursor:default}
`;

/**
 * Tooltip and highlight logic. Elements carry data-tip (text), data-key (what they stand for: host
 * region h<i> or mapping m<d>-<j>) and data-links (keys they relate to); hovering one lights every
 * element with the same key, the keys it links to and the elements that link to it.
 */
const SCRIPT = `
(function () {
  "use strict";
  var tip = document.getElementById("tip");
  var keyed = Array.prototype.slice.call(document.querySelectorAll("[data-key]"));
  var lit = [];
  function words(s) { return s ? s.split(" ").filter(Boolean) : []; }
  function clear() { lit.forEach(function (e) { e.classList.remove("hl"); }); lit = []; }
  function light(el) {
    clear();
    var k = el.getAttribute("data-key");
    if (!k) return;
    var want = [k].concat(words(el.getAttribute("data-links")));
    keyed.forEach(function (e) {
      var ek = e.getAttribute("data-key");
      if (want.indexOf(ek) >= 0 || words(e.getAttribute("data-links")).indexOf(k) >= 0) {
        e.classList.add("hl");
        lit.push(e);
      }
    });
  }
  function place(ev) {
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = Math.max(8, ev.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 8) y = Math.max(8, ev.clientY - r.height - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  document.addEventListener("mouseover", function (ev) {
    var t = ev.target && ev.target.closest ? ev.target.closest("[data-tip]") : null;
    if (!t) { tip.hidden = true; clear(); return; }
    tip.textContent = t.getAttribute("data-tip");
    tip.hidden = false;
    place(ev);
    light(t);
  });
  document.addEventListener("mousemove", function (ev) { if (!tip.hidden) place(ev); });
  document.body.setAttribute("data-ready", "1");
})();
`;

/** The memory map as a single self-contained HTML page. */
export function renderHtml(map: MemoryMap): string {
  const dr = prepare(map);
  const out: string[] = [];
  out.push(
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(map.title)} — sshm map</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${esc(map.title)}<span class="verdict v-${map.verdict}">${esc(map.verdict)}</span></h1>`,
    '<p>Host physical memory on the left, each domain\'s guest (IPA) space to the right; gaps are drawn as "≈" bands. Hover a range or a line for details.</p>',
    `<div class="picture">${drawSvg(dr, { embedded: true })}</div>`,
  );

  out.push("<h2>Warnings</h2>");
  if (dr.issues.length === 0) out.push("<p>None.</p>");
  else {
    out.push('<ol class="warnings">');
    for (const is of dr.issues) {
      const node = is.node !== undefined ? ` <span>(node <code>${esc(is.node)}</code>)</span>` : "";
      out.push(
        `<li id="w${is.n}" class="warning" data-n="${is.n}"><span class="num">${is.n}</span><code>${esc(is.code)}</code>: ${esc(is.message)}${node}</li>`,
      );
    }
    out.push("</ol>");
  }

  out.push(
    "<h2>Host regions</h2>",
    "<table><thead><tr><th>kind</th><th>id / label</th><th>start</th><th>end</th><th>size</th><th>owner</th><th>borrowers</th><th>refcount</th><th>source</th></tr></thead><tbody>",
  );
  map.host.forEach((r, i) => {
    const id = regionId(r);
    const colour = id !== undefined ? dr.colours.get(id) : undefined;
    const sw = colour !== undefined ? `<span class="sw" style="background:${colour}"></span>` : "";
    const owner = r.owner ?? (id !== undefined ? dr.owners.get(id) : undefined);
    out.push(
      `<tr data-key="h${i}" data-tip="${esc(hostTip(dr, r))}"><td>${esc(r.kind)}</td><td>${sw}${esc(id ?? r.label)}${id !== undefined && r.label !== id ? ` <small>${esc(r.label)}</small>` : ""}</td><td class="a">${addr(r.start)}</td><td class="a">${addr(r.start + r.size)}</td><td>${esc(approxSize(r.size))}</td><td>${esc(owner ?? "")}</td><td>${esc(id !== undefined ? (dr.borrowers.get(id) ?? []).join(", ") : "")}</td><td>${r.refcount ?? ""}</td><td><code>${esc(r.source ?? "")}</code></td></tr>`,
    );
  });
  out.push("</tbody></table>", "<h2>Domains</h2>");
  map.domains.forEach((d, k) => {
    out.push(
      `<h3>${esc(d.name)} (d${d.domid})${d.directMapped ? " · direct-mapped" : ""}</h3>`,
      "<table><thead><tr><th>kind</th><th>id</th><th>role</th><th>guest start</th><th>guest end</th><th>host start</th><th>size</th><th>p2m type</th><th>blocks</th><th>offset</th><th>source</th></tr></thead><tbody>",
    );
    if (d.mappings.length === 0) out.push('<tr><td colspan="11">no mappings</td></tr>');
    d.mappings.forEach((m, j) => {
      const key = mappingKey(k, j);
      const colour = m.kind === "shm" ? dr.colours.get(m.id ?? "") : undefined;
      const sw = colour !== undefined ? `<span class="sw" style="background:${colour}"></span>` : "";
      out.push(
        `<tr data-key="${key}" data-links="${esc((dr.mappingLinks.get(key) ?? []).join(" "))}" data-tip="${esc(mappingTip(dr, d, m))}"><td>${m.kind}</td><td>${sw}${esc(m.id ?? "")}</td><td>${esc(m.role ?? "")}</td><td class="a">${addr(m.gstart)}</td><td class="a">${addr(m.gstart + m.size)}</td><td class="a">${addr(m.hstart)}</td><td>${esc(approxSize(m.size))}</td><td>${esc(m.p2mType ?? "")}</td><td>${esc(m.blocks ?? "")}</td><td>${m.offset !== undefined ? addr(m.offset) : ""}</td><td><code>${esc(m.source ?? "")}</code></td></tr>`,
      );
    });
    out.push("</tbody></table>");
  });
  out.push('<div id="tip" hidden></div>', `<script>${SCRIPT}</script>`, "</body></html>", "");
  return out.join("\n");
}

/**
 * `sshm map`: a picture of the memory map — the host physical space and each domain's IPA space
 * side by side — as a standalone SVG or a self-contained HTML page with hover details.
 */

import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { SshmError } from "../common/index.js";
import { renderHtml } from "./html.js";
import type { MemoryMap } from "./model.js";
import { renderSvg } from "./svg.js";

export { renderHtml } from "./html.js";
export type { Issue, Mark } from "./layout.js";
export { buildIssues, findOverlaps, PALETTE, shmColours } from "./layout.js";
export type { MapDomain, MapHostRegion, MapMapping, MapRange, MapWarning, MemoryMap } from "./model.js";
export { renderSvg } from "./svg.js";

/** File extensions writeMap understands, with the renderer each one selects. */
export const MAP_FORMATS = { ".svg": renderSvg, ".html": renderHtml } as const;

/**
 * Render `map` to `file`, SVG or HTML by the file's extension (case-insensitive). Unknown
 * extensions and unwritable files are SshmErrors naming the file.
 */
export async function writeMap(map: MemoryMap, file: string): Promise<void> {
  const ext = extname(file).toLowerCase();
  if (ext !== ".svg" && ext !== ".html")
    throw new SshmError(
      "EMAP_FORMAT",
      `cannot tell which picture to write from the extension ${ext === "" ? "(none)" : `"${ext}"`}: supported extensions are .svg and .html`,
      { file },
    );
  const text = MAP_FORMATS[ext](map);
  try {
    await writeFile(file, text, "utf8");
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new SshmError("EMAP_WRITE", `cannot write the map: ${reason}`, { file });
  }
}

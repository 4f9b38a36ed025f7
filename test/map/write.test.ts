/** writeMap: the format follows the extension; anything else is a clear SshmError. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/index.js";
import { renderHtml, renderSvg, writeMap } from "../../src/map/index.js";
import { bootingMap } from "./example.js";

const dir = mkdtempSync(join(tmpdir(), "sshm-map-write-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function error(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isSshmError(e)) return e;
    throw e;
  }
  throw new Error("expected an SshmError");
}

describe("writeMap", () => {
  it("writes SVG for .svg and HTML for .html (any case)", async () => {
    const map = bootingMap();
    await writeMap(map, join(dir, "map.svg"));
    await writeMap(map, join(dir, "MAP.HTML"));
    expect(readFileSync(join(dir, "map.svg"), "utf8")).toBe(renderSvg(map));
    expect(readFileSync(join(dir, "MAP.HTML"), "utf8")).toBe(renderHtml(map));
  });

  it("names the supported extensions for anything else", async () => {
    for (const f of ["map.png", "map", "map.svg.txt", "map.htm"]) {
      const e = await error(writeMap(bootingMap(), join(dir, f)));
      expect(e.code).toBe("EMAP_FORMAT");
      expect(e.message).toContain("supported extensions are .svg and .html");
      expect(e.message).toContain(f);
    }
  });

  it("reports an unwritable file as an SshmError naming it", async () => {
    const f = join(dir, "no-such-dir", "map.svg");
    const e = await error(writeMap(bootingMap(), f));
    expect(e.code).toBe("EMAP_WRITE");
    expect(e.message).toContain(f);
    expect(e.message).toContain("ENOENT");
  });

  it("rejects a model no picture can be drawn from before writing anything", async () => {
    const map = bootingMap();
    map.host[0]!.size = -1;
    const e = await error(writeMap(map, join(dir, "bad.svg")));
    expect(e.code).toBe("EMAP_MODEL");
  });
});

/**
 * The --json outputs of check, boot and simulate against the JSON Schemas in docs/schema/ (issue 12
 * §10): real outputs of the examples and of every CLI fixture must validate, the schemas must refuse
 * what the rules forbid (a numeric address, an unknown field in a strict object, a location without
 * its line), and the locations and hex strings are checked exactly on a few fixtures.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { DT, FIX, type Ran, ROOT, sshmInProcess, XL } from "./run.js";

const SCHEMA_DIR = join(ROOT, "docs/schema");
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
for (const f of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith(".json")))
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, f), "utf8")) as object);
const schema = (name: string): ValidateFunction =>
  ajv.getSchema(`https://sshm.invalid/schema/${name}.json`) ??
  (() => {
    throw new Error(`no schema ${name}`);
  })();
const SCHEMAS = {
  check: schema("check"),
  boot: schema("boot"),
  simulate: schema("simulate"),
  error: schema("error"),
};

const TMP = mkdtempSync(join(tmpdir(), "sshm-json-"));
const DTB = join(TMP, "booting.dtb");
const WARN_DTB = join(TMP, "warn.dtb");

// Every CLI fixture, as other work adds them: a DT alone, an xl config after the first example's
// owner (the xl fixtures are borrowers of its regions, or broken on their own).
const fixtures = readdirSync(join(ROOT, FIX)).sort();
const dtFixtures = fixtures.filter((f) => f.endsWith(".dts")).map((f) => `${FIX}/${f}`);
const xlFixtures = fixtures.filter((f) => f.endsWith(".cfg")).map((f) => `${FIX}/${f}`);

type Kind = keyof typeof SCHEMAS;
const SPECS: Record<string, { kind: Kind; args: readonly string[] }> = {
  "check dt": { kind: "check", args: ["check", "--json", DT] },
  "check xl": { kind: "check", args: ["check", "--json", ...XL] },
  "check xl order": { kind: "check", args: ["check", "--json", XL[1]!, XL[0]!] },
  "check dtb": { kind: "check", args: ["check", "--json", DTB] },
  "check warn dtb": { kind: "check", args: ["check", "--json", WARN_DTB] },
  "boot dt": { kind: "boot", args: ["boot", "--json", DT] },
  "boot dt destroy": {
    kind: "boot",
    args: ["boot", "--json", DT, "--destroy", "domU2", "--destroy", "domU1"],
  },
  "boot xl": { kind: "boot", args: ["boot", "--json", ...XL] },
  "boot xl destroy": { kind: "boot", args: ["boot", "--json", ...XL, "--destroy", "vm2"] },
  "boot dt+xl": { kind: "boot", args: ["boot", "--json", DT, ...XL, "--destroy", "vm2"] },
  "check dt+xl refused": { kind: "check", args: ["check", "--json", DT, XL[1]!] },
  "boot build-reject": { kind: "boot", args: ["boot", "--json", `${FIX}/build-reject.dts`] },
  "boot warn": { kind: "boot", args: ["boot", "--json", `${FIX}/warn.dts`] },
  "simulate dom_io": {
    kind: "simulate",
    args: ["simulate", "--json", DT, "--region", "my-shared-mem-1", "--count", "50"],
  },
  "simulate xl pingpong": {
    kind: "simulate",
    args: ["simulate", "--json", ...XL, "--scenario", "pingpong", "--count", "50"],
  },
  "simulate warn": { kind: "simulate", args: ["simulate", "--json", `${FIX}/warn.dts`, "--count", "50"] },
  "simulate refused": { kind: "simulate", args: ["simulate", "--json", `${FIX}/parse-reject.dts`] },
  "error missing": { kind: "error", args: ["check", "--json", "nope.dts"] },
  "error syntax": { kind: "error", args: ["boot", "--json", `${FIX}/syntax.dts`] },
  ...Object.fromEntries(
    dtFixtures.map((f) => [`check ${f}`, { kind: "check", args: ["check", "--json", f] }]),
  ),
  ...Object.fromEntries(
    xlFixtures.map((f) => [`check ${f}`, { kind: "check", args: ["check", "--json", XL[0]!, f] }]),
  ),
};

/** The CLI in this process: no tsx start-up per command. */
const sshmIn = (args: readonly string[]): Promise<Ran> => sshmInProcess(...args);

const R: Record<string, Ran> = {};
const J: Record<string, Record<string, unknown>> = {};
beforeAll(async () => {
  for (const [out, src] of [
    [DTB, DT],
    [WARN_DTB, `${FIX}/warn.dts`],
  ] as const) {
    const c = spawnSync("dtc", ["-I", "dts", "-O", "dtb", "-o", out, src], { cwd: ROOT, encoding: "utf8" });
    if (c.status !== 0) throw new Error(`dtc: ${c.stderr}`);
  }
  // Paths in the specs are relative to the repository, as in the other CLI tests.
  process.chdir(ROOT);
  for (const [k, spec] of Object.entries(SPECS)) {
    R[k] = await sshmIn(spec.args);
    J[k] = JSON.parse(R[k].stdout) as Record<string, unknown>;
  }
}, 180_000);

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function errorsOf(v: ValidateFunction, x: unknown): string {
  return v(x) ? "" : ajv.errorsText(v.errors, { separator: "\n" });
}

interface Loc {
  path: string | null;
  file: string | null;
  line: number | null;
  col: number | null;
}
interface CheckJson {
  failedNode: Loc | null;
  warnings: { code: string; node: Loc; message: string }[];
  exitCode: number;
}

describe("--json outputs validate against docs/schema", () => {
  it.each(Object.keys(SPECS))("%s", (name) => {
    // A fixture the parser refuses (a DTS syntax error) prints the error object instead.
    const kind = SPECS[name]!.kind === "check" && "error" in J[name]! ? "error" : SPECS[name]!.kind;
    expect(errorsOf(SCHEMAS[kind], J[name])).toBe("");
    // The JSON's exit code is the command's.
    expect(J[name]!.exitCode).toBe(R[name]!.status);
  });
});

describe("locations", () => {
  it("every warning and failed node of a DTS fixture has file, line and col", () => {
    for (const f of dtFixtures) {
      const j = J[`check ${f}`] as unknown as CheckJson;
      if ("error" in j) continue;
      for (const l of [...j.warnings.map((w) => w.node), ...(j.failedNode ? [j.failedNode] : [])]) {
        expect(l.file, `${f}: ${JSON.stringify(l)}`).toBe(f);
        expect(l.line, `${f}: ${JSON.stringify(l)}`).toBeGreaterThan(0);
        expect(l.col, `${f}: ${JSON.stringify(l)}`).toBeGreaterThan(0);
      }
    }
  });

  it("a failed node and warnings, exactly (build-reject.dts, warn.dts)", () => {
    const b = J[`check ${FIX}/build-reject.dts`] as unknown as CheckJson;
    expect(b.failedNode).toEqual({
      path: "/chosen/domU2/shm0",
      file: `${FIX}/build-reject.dts`,
      line: 50,
      col: 13,
    });
    expect(b.warnings.map((w) => [w.code, w.node])).toEqual([
      ["B2", { path: "/chosen/domU1/shm0", file: `${FIX}/build-reject.dts`, line: 30, col: 13 }],
    ]);
    const w = J[`check ${FIX}/warn.dts`] as unknown as CheckJson;
    const at = (line: number) => ({ file: `${FIX}/warn.dts`, line, col: 13 });
    expect(w.warnings.map((x) => [x.code, x.node])).toEqual([
      ["B4", { path: "/chosen/domU1/shm0", ...at(30) }],
      ["B9", { path: "/chosen/domU2/shm0", ...at(49) }],
      ["B4", { path: "/chosen/domU2/shm0", ...at(49) }],
    ]);
  });

  it("xl: the failed setting's file:line:col, with no DT path", () => {
    const j = J[`check ${FIX}/xl-exceeds.cfg`] as unknown as CheckJson;
    expect(j.failedNode).toEqual({ path: null, file: `${FIX}/xl-exceeds.cfg`, line: 7, col: 16 });
    const o = J["check xl order"] as unknown as CheckJson;
    expect(o.failedNode).toEqual({ path: null, file: XL[1], line: 17, col: 16 });
  });

  it("a DTB has nodes but no positions: file only", () => {
    const j = J["check dtb"] as unknown as CheckJson & { source: string; files: string[] };
    expect(j.source).toBe(DTB);
    expect(j.files).toEqual([DTB]);
    const w = J["check warn dtb"] as unknown as CheckJson;
    expect(w.warnings.map((x) => x.node)).toEqual(
      ["/chosen/domU1/shm0", "/chosen/domU2/shm0", "/chosen/domU2/shm0"].map((path) => ({
        path,
        file: WARN_DTB,
        line: null,
        col: null,
      })),
    );
    const s = J["simulate refused"] as unknown as CheckJson;
    // Xen rejected the node's role: the location is the property's.
    expect(s.failedNode).toEqual({
      path: "/chosen/domU1/shm0",
      property: "role",
      file: `${FIX}/parse-reject.dts`,
      line: 32,
      col: 17,
    });
  });

  it("check's JSON names its source and files as boot's does", () => {
    for (const k of ["dt", "xl"] as const) {
      const c = J[`check ${k}`]!;
      const b = J[`boot ${k}`]!;
      expect(c.source).toBe(b.source);
      expect(c.files).toEqual(b.files);
      expect(c.kind).toBe(b.kind);
    }
    expect(J["check xl"]!.files).toEqual(XL);
  });
});

describe("addresses are hex strings", () => {
  it("a dom_io region and a borrower mapping of the dom0less example, exactly", () => {
    const j = J["boot dt"] as {
      regions: { id: string }[];
      domains: { name: string; mappings: { id?: string }[] }[];
    };
    expect(j.regions.find((r) => r.id === "my-shared-mem-1")).toEqual({
      id: "my-shared-mem-1",
      form: "host",
      host: "0x50000000",
      chunks: [{ start: "0x50000000", size: "0x20000000" }],
      size: "0x20000000",
      owner: "dom_io",
      borrowers: [
        { domain: "domU1", gaddr: "0x60000000", offset: "0x0" },
        { domain: "domU2", gaddr: "0x70000000", offset: "0x0" },
      ],
      nrBorrowers: 2,
      refcounts: [{ mfn: "0x50000", pages: 131072, count: 3 }],
      source: "/chosen/domU1/domU1-shared-mem@50000000",
    });
    const domU1 = j.domains.find((d) => d.name === "domU1")!;
    expect(domU1.mappings.find((m) => m.id === "my-shared-mem-1")).toEqual({
      gstart: "0x60000000",
      size: "0x20000000",
      hstart: "0x50000000",
      kind: "shm",
      id: "my-shared-mem-1",
      role: "dom_io-borrower",
      p2mType: "p2m_map_foreign_rw",
      blocks: "256x2M",
      offset: "0x0",
      source: "/chosen/domU1/domU1-shared-mem@50000000",
    });
  });

  it("simulate: ring offsets and page counts as hex, counts as numbers", () => {
    const r = (J["simulate dom_io"] as { result: Record<string, unknown> }).result;
    expect(r.pageCounts).toEqual([{ offset: "0x0", pages: 131072, mfn: "0x50000", count: 3 }]);
    expect(r.pageCountsView).toEqual({ owner: "dom_io", through: "host frames" });
    expect(r.rings).toEqual([
      {
        name: "stream",
        offset: "0x1000",
        bytes: "0x9000",
        slotSize: 128,
        slots: 256,
        producer: 1,
        readers: [2],
      },
    ]);
  });
});

describe("the schemas are strict where they must be", () => {
  const boot = () =>
    clone(J["boot dt"]) as { domains: { mappings: Record<string, unknown>[] }[] } & Record<string, unknown>;

  it("refuse a numeric address, an unknown mapping field, a location without its line", () => {
    const a = boot();
    a.domains[1]!.mappings[0]!.gstart = 0x4000_0000;
    expect(errorsOf(SCHEMAS.boot, a)).toMatch(/gstart must be string/);
    const b = boot();
    b.domains[1]!.mappings[0]!.gpa = "0x0";
    expect(errorsOf(SCHEMAS.boot, b)).toMatch(/must NOT have additional properties/);
    const c = clone(J[`check ${FIX}/warn.dts`]) as unknown as CheckJson;
    delete (c.warnings[0]!.node as Partial<Loc>).line;
    expect(errorsOf(SCHEMAS.check, c)).toMatch(/must have required property 'line'/);
    const d = clone(J[`check ${FIX}/warn.dts`]) as unknown as CheckJson;
    d.warnings[0]!.node.line = null;
    expect(errorsOf(SCHEMAS.check, d)).toMatch(/col must be null/);
  });

  it("refuse an exit code that does not follow from the verdict and the warnings", () => {
    const w = clone(J[`check ${FIX}/warn.dts`]) as unknown as CheckJson;
    w.exitCode = 0;
    expect(errorsOf(SCHEMAS.check, w)).toMatch(/exitCode must be equal to constant/);
    const s = clone(J["simulate refused"]) as Record<string, unknown>;
    s.exitCode = 0;
    expect(errorsOf(SCHEMAS.simulate, s)).not.toBe("");
  });

  it("allow a documented extension: a new top-level field", () => {
    const a = boot();
    a.pa = { bits: 40, why: "test" };
    expect(errorsOf(SCHEMAS.boot, a)).toBe("");
  });
});

import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/errors.js";
import type { SshmSpec } from "../../src/xl/index.js";
import { loadXlDomain, parseSshmSpecString, XL_CODES } from "../../src/xl/index.js";

/**
 * Each SSHM_SPEC fixture is one config file with one static_shm string on line 2:
 *   static_shm = [ "<spec>" ]
 * The opening quote is column 16, so character k of the spec is column 17 + k.
 */
const one = (spec: string): string => `name = "t"\nstatic_shm = [ "${spec}" ]\n`;
const many = (...specs: string[]): string =>
  `name = "t"\nstatic_shm = [\n${specs.map((s) => `  "${s}",\n`).join("")}]\n`;
/** Column of `needle` inside the spec of a one() fixture. */
const col = (spec: string, needle: string): number => {
  const i = spec.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in ${spec}`);
  return 17 + i;
};

function load(text: string): SshmSpec[] {
  return [...loadXlDomain(text, "t.cfg").staticShm];
}

function loadError(text: string): { code: string; message: string } {
  try {
    loadXlDomain(text, "t.cfg");
  } catch (e) {
    if (!isSshmError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error(`expected an error for ${JSON.stringify(text)}`);
}

const BASE = "id=A, begin=0x1000, size=0x1000";

describe("SSHM_SPEC: accepted specs and defaults", () => {
  it("applies the man page defaults: role borrower, offset 0, prot rw, cache_policy ARM_normal", () => {
    const [s] = load(one(BASE));
    expect(s).toMatchObject({
      index: 0,
      id: "A",
      role: "borrower",
      roleGiven: false,
      begin: 0x1000,
      size: 0x1000,
      end: 0x2000,
      offset: 0,
      offsetGiven: false,
      prot: "rw",
      protGiven: false,
      cachePolicy: "ARM_normal",
      cachePolicyGiven: false,
      text: BASE,
      loc: { file: "t.cfg", line: 2, column: 16 },
    });
    expect(s?.keyLocs).toEqual({
      id: { file: "t.cfg", line: 2, column: 17 },
      begin: { file: "t.cfg", line: 2, column: 23 },
      size: { file: "t.cfg", line: 2, column: 37 },
    });
  });

  it("reads an owner with every key an owner may have", () => {
    const [s] = load(
      one("id=R_1, begin=0x40000000, size=0x200000, role=owner, prot=rw, cache_policy=ARM_normal"),
    );
    expect(s).toMatchObject({
      id: "R_1",
      role: "owner",
      roleGiven: true,
      begin: 0x40000000,
      size: 0x200000,
      offset: 0,
      offsetGiven: false,
      protGiven: true,
      cachePolicyGiven: true,
    });
  });

  it("reads a borrower with an explicit offset, including offset=0", () => {
    expect(load(one(`${BASE}, offset=0x10000`))[0]).toMatchObject({ offset: 0x10000, offsetGiven: true });
    expect(load(one(`${BASE}, role=borrower, offset=0`))[0]).toMatchObject({ offset: 0, offsetGiven: true });
  });

  it("accepts decimal numbers and hex digits in either case", () => {
    expect(load(one("id=A, begin=4096, size=0xABC000"))[0]).toMatchObject({ begin: 4096, size: 0xabc000 });
    expect(load(one("id=A, begin=0004096, size=0xabc000"))[0]).toMatchObject({ begin: 4096 });
  });

  it("allows blanks around '=' and ',' and one trailing comma", () => {
    const [s] = load(one("  id =A ,begin= 0x1000 ,\\tsize = 0x2000 , "));
    expect(s).toMatchObject({ id: "A", begin: 0x1000, size: 0x2000 });
  });

  it("maps key locations through escapes in the quoted string", () => {
    // Source: "id=A,\tsize=..." : the escape \t takes two columns but is one character.
    const [s] = load(one("id=A,\\tsize=0x1000, begin=0x1000"));
    expect(s?.keyLocs.size?.column).toBe(17 + 7);
  });

  it("accepts ids of 1 and 128 characters made of letters, digits and _", () => {
    expect(load(one("id=x, begin=0x1000, size=0x1000"))[0]?.id).toBe("x");
    const id = `${"aZ0_".repeat(32)}`;
    expect(id).toHaveLength(128);
    expect(load(one(`id=${id}, begin=0x1000, size=0x1000`))[0]?.id).toBe(id);
  });

  it("accepts a region ending exactly at 2^52", () => {
    expect(load(one("id=A, begin=0xFFFFFFFFFF000, size=0x1000"))[0]?.end).toBe(2 ** 52);
  });

  it("is also available for a bare spec string", () => {
    expect(parseSshmSpecString(`${BASE}, role=owner`)).toMatchObject({
      role: "owner",
      loc: { line: 1, column: 1 },
    });
    expect(() => parseSshmSpecString("id=A, begin=0x1000")).toThrow(
      "<sshm-spec>:1:1: static_shm[0] id=A: size not specified",
    );
  });
});

describe("SSHM_SPEC: one fixture per rule, exact messages", () => {
  const cases: [string, string, string, string][] = [
    // [rule, spec, code, message after "t.cfg:"]
    [
      "id is mandatory",
      "begin=0x1000, size=0x1000",
      XL_CODES.sshmMissing,
      "2:16: static_shm[0]: id not specified",
    ],
    ["an empty spec has no id", "", XL_CODES.sshmMissing, "2:16: static_shm[0]: id not specified"],
    [
      "begin is mandatory",
      "id=A, size=0x1000",
      XL_CODES.sshmMissing,
      "2:16: static_shm[0] id=A: begin address not specified",
    ],
    [
      "size is mandatory",
      "id=A, begin=0x1000",
      XL_CODES.sshmMissing,
      "2:16: static_shm[0] id=A: size not specified",
    ],
    [
      "unknown key",
      `${BASE}, colour=red`,
      XL_CODES.sshmUnknownKey,
      `2:${col(`${BASE}, colour=red`, "colour")}: static_shm[0] id=A: invalid option "colour" (valid keys: id, begin, size, offset, role, prot, cache_policy)`,
    ],
    [
      "keys are case-sensitive",
      "ID=A, begin=0x1000, size=0x1000",
      XL_CODES.sshmUnknownKey,
      '2:17: static_shm[0]: invalid option "ID" (valid keys: id, begin, size, offset, role, prot, cache_policy)',
    ],
    [
      "a key without '='",
      "id=A, begin, size=0x1000",
      XL_CODES.sshmSyntax,
      '2:23: static_shm[0] id=A: unrecognized token "begin": expected key=value',
    ],
    [
      "a key that is not a word",
      "id=A, be-gin=0x1000",
      XL_CODES.sshmSyntax,
      '2:23: static_shm[0] id=A: unrecognized token "be-gin=0x1000": expected key=value',
    ],
    [
      "an empty key",
      "=A",
      XL_CODES.sshmSyntax,
      '2:17: static_shm[0]: unrecognized token "=A": expected key=value',
    ],
    [
      "two commas in a row",
      "id=A,, begin=0x1000, size=0x1000",
      XL_CODES.sshmSyntax,
      "2:22: static_shm[0] id=A: unrecognized token: empty key=value pair (pairs are separated by single commas)",
    ],
    [
      "a leading comma",
      ", id=A",
      XL_CODES.sshmSyntax,
      "2:17: static_shm[0]: unrecognized token: empty key=value pair (pairs are separated by single commas)",
    ],
    [
      "key repeated with the same value",
      `${BASE}, role=owner, role=owner`,
      XL_CODES.sshmRespecified,
      `2:${17 + `${BASE}, role=owner, `.length}: static_shm[0] id=A: "role" respecified (each key may appear at most once per SSHM_SPEC)`,
    ],
    [
      "id repeated with another value",
      "id=A, id=B, begin=0x1000, size=0x1000",
      XL_CODES.sshmRespecified,
      '2:23: static_shm[0] id=A: "id" respecified (each key may appear at most once per SSHM_SPEC)',
    ],
    [
      "prot repeated",
      `${BASE}, prot=rw, prot=rw`,
      XL_CODES.sshmRespecified,
      `2:${17 + `${BASE}, prot=rw, `.length}: static_shm[0] id=A: "prot" respecified (each key may appear at most once per SSHM_SPEC)`,
    ],
    [
      "id with a hyphen",
      "id=my-shm, begin=0x1000, size=0x1000",
      XL_CODES.sshmId,
      '2:17: static_shm[0]: invalid id "my-shm": an id is 1 to 128 characters, each an ASCII letter, digit or "_"',
    ],
    [
      "empty id",
      "id=, begin=0x1000, size=0x1000",
      XL_CODES.sshmId,
      '2:17: static_shm[0]: invalid id "": an id is 1 to 128 characters, each an ASCII letter, digit or "_"',
    ],
    [
      "id with inner blank",
      "id=a b, begin=0x1000, size=0x1000",
      XL_CODES.sshmId,
      '2:17: static_shm[0]: invalid id "a b": an id is 1 to 128 characters, each an ASCII letter, digit or "_"',
    ],
    [
      "id of 129 characters",
      `id=${"a".repeat(129)}, begin=0x1000, size=0x1000`,
      XL_CODES.sshmId,
      "2:17: static_shm[0]: id too long: 129 characters, at most 128",
    ],
    [
      "begin not a number",
      "id=A, begin=0x10g0, size=0x1000",
      XL_CODES.sshmNumber,
      '2:23: static_shm[0] id=A: invalid begin "0x10g0": expected a decimal number or a hexadecimal one with prefix 0x',
    ],
    [
      "begin with 0X prefix",
      "id=A, begin=0X1000, size=0x1000",
      XL_CODES.sshmNumber,
      '2:23: static_shm[0] id=A: invalid begin "0X1000": expected a decimal number or a hexadecimal one with prefix 0x',
    ],
    [
      "negative size",
      "id=A, begin=0x1000, size=-4096",
      XL_CODES.sshmNumber,
      '2:37: static_shm[0] id=A: invalid size "-4096": expected a decimal number or a hexadecimal one with prefix 0x',
    ],
    [
      "empty offset",
      `${BASE}, offset=`,
      XL_CODES.sshmNumber,
      `2:${col(`${BASE}, offset=`, "offset")}: static_shm[0] id=A: invalid offset "": expected a decimal number or a hexadecimal one with prefix 0x`,
    ],
    [
      "begin over 64 bits",
      "id=A, begin=0x10000000000000000, size=0x1000",
      XL_CODES.sshmNumber,
      '2:23: static_shm[0] id=A: invalid begin "0x10000000000000000": out of range (more than 64 bits)',
    ],
    [
      "decimal size over 64 bits",
      "id=A, begin=0, size=18446744073709551616",
      XL_CODES.sshmNumber,
      '2:32: static_shm[0] id=A: invalid size "18446744073709551616": out of range (more than 64 bits)',
    ],
    [
      "role master (2017 name)",
      `${BASE}, role=master`,
      XL_CODES.sshmRole,
      `2:${col(`${BASE}, role=master`, "role")}: static_shm[0] id=A: invalid role "master": expected owner or borrower`,
    ],
    [
      "role is case-sensitive",
      `${BASE}, role=Owner`,
      XL_CODES.sshmRole,
      `2:${col(`${BASE}, role=Owner`, "role")}: static_shm[0] id=A: invalid role "Owner": expected owner or borrower`,
    ],
    [
      "prot ro",
      `${BASE}, prot=ro`,
      XL_CODES.sshmProt,
      `2:${col(`${BASE}, prot=ro`, "prot")}: static_shm[0] id=A: invalid permission flags "ro": only rw is supported`,
    ],
    [
      "unknown cache policy",
      `${BASE}, role=owner, cache_policy=WB`,
      XL_CODES.sshmCachePolicy,
      `2:${col(`${BASE}, role=owner, cache_policy=WB`, "cache_policy")}: static_shm[0] id=A: invalid cache policy "WB": only ARM_normal is supported`,
    ],
    [
      "x86_normal on an Arm owner",
      `${BASE}, role=owner, cache_policy=x86_normal`,
      XL_CODES.sshmCachePolicy,
      `2:${col(`${BASE}, role=owner, cache_policy=x86_normal`, "cache_policy")}: static_shm[0] id=A: cache policy not supported on this platform`,
    ],
    [
      "cache_policy on a borrower (default role)",
      `${BASE}, cache_policy=ARM_normal`,
      XL_CODES.sshmRoleKey,
      `2:${col(`${BASE}, cache_policy=ARM_normal`, "cache_policy")}: static_shm[0] id=A: cache_policy is only applicable to owner domains`,
    ],
    [
      "x86_normal on a borrower: the role rule comes first",
      `${BASE}, role=borrower, cache_policy=x86_normal`,
      XL_CODES.sshmRoleKey,
      `2:${col(`${BASE}, role=borrower, cache_policy=x86_normal`, "cache_policy")}: static_shm[0] id=A: cache_policy is only applicable to owner domains`,
    ],
    [
      "offset on an owner, even 0",
      `${BASE}, role=owner, offset=0`,
      XL_CODES.sshmRoleKey,
      `2:${col(`${BASE}, role=owner, offset=0`, "offset")}: static_shm[0] id=A: offset is only applicable to borrower domains`,
    ],
    [
      "begin not 4K aligned",
      "id=A, begin=0x100800, size=0x1000",
      XL_CODES.sshmAlign,
      "2:23: static_shm[0] id=A: begin/size/offset is not a multiple of 4K (begin = 0x100800)",
    ],
    [
      "size not 4K aligned",
      "id=A, begin=0x1000, size=0x1800",
      XL_CODES.sshmAlign,
      "2:37: static_shm[0] id=A: begin/size/offset is not a multiple of 4K (size = 0x1800)",
    ],
    [
      "offset not 4K aligned",
      `${BASE}, offset=2048`,
      XL_CODES.sshmAlign,
      `2:${col(`${BASE}, offset=2048`, "offset")}: static_shm[0] id=A: begin/size/offset is not a multiple of 4K (offset = 0x800)`,
    ],
    [
      "size zero",
      "id=A, begin=0x1000, size=0",
      XL_CODES.sshmZeroSize,
      "2:37: static_shm[0] id=A: the size for static shared memory region can not be zero",
    ],
    [
      "region beyond 52 bits",
      "id=A, begin=0xFFFFFFFFFF000, size=0x2000",
      XL_CODES.sshmRange,
      "2:23: static_shm[0] id=A: region [0xffffffffff000, 0x10000000001000) ends beyond the 52-bit Arm guest physical address space (0x10000000000000)",
    ],
    [
      "region wrapping 64 bits",
      "id=A, begin=0xFFFFFFFFFFFFF000, size=0x2000",
      XL_CODES.sshmRange,
      "2:23: static_shm[0] id=A: region [0xfffffffffffff000, 0x10000000000001000) ends beyond the 52-bit Arm guest physical address space (0x10000000000000)",
    ],
    [
      "offset beyond 52 bits",
      `${BASE}, offset=0x10000000000000`,
      XL_CODES.sshmRange,
      `2:${col(`${BASE}, offset=0x10000000000000`, "offset")}: static_shm[0] id=A: offset 0x10000000000000 lies beyond the 52-bit Arm guest physical address space (0x10000000000000)`,
    ],
  ];
  for (const [rule, spec, code, message] of cases) {
    it(rule, () => {
      expect(loadError(one(spec))).toEqual({ code, message: `t.cfg:${message}` });
    });
  }

  it("checks syntax before mandatory keys and mandatory keys before role rules", () => {
    expect(loadError(one("size=0x1000, role=owner, offset=0, colour=1")).code).toBe(XL_CODES.sshmUnknownKey);
    expect(loadError(one("size=0x1001, role=owner, offset=0")).code).toBe(XL_CODES.sshmMissing);
    expect(loadError(one("id=A, begin=0x1001, size=0, role=owner, offset=0")).code).toBe(
      XL_CODES.sshmRoleKey,
    );
    expect(loadError(one("id=A, begin=0x1001, size=0")).code).toBe(XL_CODES.sshmAlign);
  });
});

describe("SSHM_SPEC: rules over the whole static_shm list of one config", () => {
  it("names the list index of the failing spec", () => {
    expect(loadError(many(BASE, "id=B, begin=0x1000")).message).toBe(
      "t.cfg:4:3: static_shm[1] id=B: size not specified",
    );
  });

  it("rejects an id used twice, pointing at the second use", () => {
    expect(loadError(many("id=A, begin=0x1000, size=0x1000", "id=A, begin=0x8000, size=0x1000"))).toEqual({
      code: XL_CODES.sshmDuplicateId,
      message:
        "t.cfg:4:4: static_shm[1] id=A: id A is already used by static_shm[0] (line 3, column 4); each id may appear only once per config file",
    });
  });

  it("rejects an id used twice even as owner and borrower", () => {
    expect(
      loadError(many("id=A, begin=0x40000000, size=0x1000, role=owner", "id=A, begin=0x8000, size=0x1000"))
        .code,
    ).toBe(XL_CODES.sshmDuplicateId);
  });

  it("rejects overlapping borrower ranges", () => {
    expect(
      loadError(many("id=A, begin=0x60000000, size=0x100000", "id=B, begin=0x60080000, size=0x100000")),
    ).toEqual({
      code: XL_CODES.sshmOverlap,
      message:
        "t.cfg:4:10: static_shm[1] id=B: borrower ranges overlap. [0x60080000, 0x60180000) overlaps static_shm[0] id=A [0x60000000, 0x60100000)",
    });
  });

  it("rejects a borrower range inside another one", () => {
    expect(
      loadError(many("id=A, begin=0x60000000, size=0x100000", "id=B, begin=0x60010000, size=0x1000")).code,
    ).toBe(XL_CODES.sshmOverlap);
  });

  it("accepts adjacent borrower ranges", () => {
    expect(
      load(many("id=A, begin=0x60000000, size=0x100000", "id=B, begin=0x60100000, size=0x1000")),
    ).toHaveLength(2);
  });

  it("does not compare owner ranges (libxl checks borrower ranges only)", () => {
    const owners = many(
      "id=A, begin=0x40000000, size=0x100000, role=owner",
      "id=B, begin=0x40000000, size=0x100000, role=owner",
      "id=C, begin=0x40000000, size=0x1000",
    );
    expect(load(owners).map((s) => s.id)).toEqual(["A", "B", "C"]);
  });

  it("requires static_shm to be a list of strings", () => {
    expect(loadError('name = "t"\nstatic_shm = "id=A, begin=0x1000, size=0x1000"\n')).toEqual({
      code: XL_CODES.value,
      message:
        't.cfg:2:14: parameter `static_shm\' is a single value but should be a list (static_shm = [ "SSHM_SPEC", ... ])',
    });
    expect(loadError(`name = "t"\nstatic_shm = [ "${BASE}", [ "x" ] ]\n`)).toEqual({
      code: XL_CODES.value,
      message: 't.cfg:2:51: static_shm[1]: value is not a string (expected "SSHM_SPEC")',
    });
  });

  it("accepts an empty static_shm list and an absent one", () => {
    expect(load('name = "t"\nstatic_shm = []\n')).toEqual([]);
    expect(load('name = "t"\n')).toEqual([]);
  });

  it("builds the list from += pieces", () => {
    const text = `name = "t"\nstatic_shm = [ "${BASE}" ]\nstatic_shm += [ "id=B, begin=0x1000, size=0x1000" ]\n`;
    expect(loadError(text)).toEqual({
      code: XL_CODES.sshmOverlap,
      message:
        "t.cfg:3:24: static_shm[1] id=B: borrower ranges overlap. [0x1000, 0x2000) overlaps static_shm[0] id=A [0x1000, 0x2000)",
    });
  });
});

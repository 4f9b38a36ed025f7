import { describe, expect, it } from "vitest";
import {
  parsePerm,
  permToString,
  sanitiseValue,
  validatePath,
  XenStore,
  xenstoreLs,
} from "../../src/xenstore/index.js";
import { throwsExactly } from "../helpers/errors.js";

describe("xenstore path validation", () => {
  const fixtures: [string, string][] = [
    ["", 'xenstore path "": the empty path is forbidden'],
    ["local/domain", 'xenstore path "local/domain": must be absolute (start with "/")'],
    ["@releaseDomain", 'xenstore path "@releaseDomain": must be absolute (start with "/")'],
    ["/a.b", 'xenstore path "/a.b": character "." at offset 2 is not allowed (only A-Z a-z 0-9 - / _ @)'],
    ["/a b", 'xenstore path "/a b": character " " at offset 2 is not allowed (only A-Z a-z 0-9 - / _ @)'],
    [
      "/x\n",
      'xenstore path "/x\\n": character "\\u000a" at offset 2 is not allowed (only A-Z a-z 0-9 - / _ @)',
    ],
    ["/é", 'xenstore path "/é": character "\\u00e9" at offset 1 is not allowed (only A-Z a-z 0-9 - / _ @)'],
    ["/local/", 'xenstore path "/local/": a trailing "/" is forbidden (except for the root "/")'],
    ["/local//domain", 'xenstore path "/local//domain": a doubled "/" (empty component) is forbidden'],
    ["//", 'xenstore path "//": a trailing "/" is forbidden (except for the root "/")'],
  ];
  for (const [path, msg] of fixtures) {
    it(`rejects ${JSON.stringify(path)}`, () => {
      throwsExactly(() => validatePath(path), "EXS_PATH", msg);
      // Every operation validates: a bad path never reaches the tree.
      throwsExactly(() => new XenStore().write(path, "v"), "EXS_PATH", msg);
      throwsExactly(() => new XenStore().read(path), "EXS_PATH", msg);
    });
  }

  it("accepts the allowed characters, the root and the length limit exactly", () => {
    for (const p of ["/", "/local/domain/0", "/A-Z_a-z/0-9/@x", "/libxl/static_shm/ID_1/borrowers/12"]) {
      expect(() => validatePath(p)).not.toThrow();
    }
    const max = `/local/domain/7/${"x".repeat(3072 - 16)}`;
    expect(max.length).toBe(3072);
    expect(() => validatePath(max)).not.toThrow();
    const over = `${max}y`;
    throwsExactly(
      () => validatePath(over),
      "EXS_PATH",
      `xenstore path "${over.slice(0, 60)}"... (3073 bytes): longer than 3072 bytes (XENSTORE_ABS_PATH_MAX)`,
    );
  });
});

describe("xenstore node semantics", () => {
  it("write creates missing parents with empty values; read returns values or undefined", () => {
    const xs = new XenStore();
    xs.write("/a/b/c", "v");
    expect(xs.read("/a")).toBe("");
    expect(xs.read("/a/b")).toBe("");
    expect(xs.read("/a/b/c")).toBe("v");
    expect(xs.read("/a/x")).toBeUndefined();
    expect(xs.exists("/a/b")).toBe(true);
    expect(xs.exists("/a/b/c/d")).toBe(false);
    xs.write("/a/b", "parent value");
    expect(xs.read("/a/b")).toBe("parent value");
    expect(xs.directory("/a/b")).toEqual(["c"]);
  });

  it("mkdir creates with an empty value and leaves an existing node's value alone", () => {
    const xs = new XenStore();
    xs.mkdir("/m/n");
    expect(xs.read("/m/n")).toBe("");
    xs.write("/m/n", "keep");
    xs.mkdir("/m/n");
    expect(xs.read("/m/n")).toBe("keep");
  });

  it("directory lists children in creation order, not sorted; ENOENT for a missing node", () => {
    const xs = new XenStore();
    for (const n of ["zeta", "alpha", "10", "9", "mid"]) xs.write(`/d/${n}`, "");
    xs.write("/d/alpha", "rewritten"); // a rewrite does not move the node
    expect(xs.directory("/d")).toEqual(["zeta", "alpha", "10", "9", "mid"]);
    expect(xs.directory("/")).toEqual(["d"]);
    expect(xs.directory("/d/zeta")).toEqual([]);
    throwsExactly(
      () => xs.directory("/nope"),
      "EXS_ENOENT",
      "xenstore directory /nope: no such node (ENOENT)",
    );
  });

  it("rm is recursive; missing node with a parent is fine (false); missing parent is ENOENT; root is EINVAL", () => {
    const xs = new XenStore();
    xs.write("/r/a/b/c", "1");
    xs.write("/r/a/x", "2");
    xs.write("/r/keep", "3");
    expect(xs.rm("/r/a")).toBe(true);
    expect(xs.exists("/r/a/b/c")).toBe(false);
    expect(xs.directory("/r")).toEqual(["keep"]);
    expect(xs.rm("/r/a")).toBe(false);
    throwsExactly(
      () => xs.rm("/r/a/b"),
      "EXS_ENOENT",
      "xenstore rm /r/a/b: neither the node nor its parent exists (ENOENT)",
    );
    throwsExactly(() => xs.rm("/"), "EXS_EINVAL", "xenstore rm /: the root cannot be removed (EINVAL)");
    // Re-creating after rm appends at the end of the parent's list.
    xs.write("/r/a", "");
    expect(xs.directory("/r")).toEqual(["keep", "a"]);
  });

  it("a write larger than one xenstore message is refused", () => {
    const xs = new XenStore();
    const path = "/big";
    xs.write(path, "x".repeat(4096 - path.length - 1));
    throwsExactly(
      () => xs.write(path, "x".repeat(4096 - path.length)),
      "EXS_E2BIG",
      "xenstore write /big: path and value take 4097 bytes, more than XENSTORE_PAYLOAD_MAX (4096)",
    );
    expect(xs.read(path)?.length).toBe(4091);
  });
});

describe("xenstore permissions", () => {
  it("the root starts as n0 and new nodes inherit their parent's list", () => {
    const xs = new XenStore();
    xs.write("/a", "");
    expect(xs.getPerms("/").map(permToString)).toEqual(["n0"]);
    expect(xs.getPerms("/a").map(permToString)).toEqual(["n0"]);
    xs.setPerms("/a", [
      { id: 3, access: "n" },
      { id: 0, access: "b" },
      { id: 5, access: "r" },
    ]);
    xs.write("/a/b/c", "v");
    expect(xs.getPerms("/a/b/c").map(permToString)).toEqual(["n3", "b0", "r5"]);
    // Setting perms later does not rewrite existing children.
    xs.setPerms("/a", [{ id: 0, access: "w" }]);
    expect(xs.getPerms("/a/b").map(permToString)).toEqual(["n3", "b0", "r5"]);
  });

  it("getPerms returns a copy; bad lists and missing nodes are errors", () => {
    const xs = new XenStore();
    xs.write("/p", "");
    const perms = xs.getPerms("/p");
    perms.push({ id: 9, access: "b" });
    expect(xs.getPerms("/p")).toEqual([{ id: 0, access: "n" }]);
    throwsExactly(
      () => xs.setPerms("/p", []),
      "EXS_PERMS",
      "xenstore set-perms /p: a permission list needs at least the owner entry",
    );
    throwsExactly(
      () => xs.setPerms("/p", [{ id: 70000, access: "r" }]),
      "EXS_PERMS",
      "xenstore permission r70000: domid 70000 is not in 0..65535",
    );
    throwsExactly(() => xs.getPerms("/q"), "EXS_ENOENT", "xenstore get-perms /q: no such node (ENOENT)");
  });

  it("parses and prints the wire form", () => {
    expect(["n0", "r1", "w22", "b65535"].map((s) => permToString(parsePerm(s)))).toEqual([
      "n0",
      "r1",
      "w22",
      "b65535",
    ]);
    throwsExactly(
      () => parsePerm("x1"),
      "EXS_PERMS",
      'xenstore permission "x1": expected n|r|w|b followed by a domid',
    );
  });
});

describe("xenstore transactions", () => {
  it("commits on success and restores everything (values, nodes, order, perms) on a throw", () => {
    const xs = new XenStore();
    xs.write("/t/a", "1");
    xs.write("/t/b", "2");
    const before = xs.xenstoreLs("/", { perms: true });
    expect(() =>
      xs.transaction((tx) => {
        tx.write("/t/a", "changed");
        tx.rm("/t/b");
        tx.write("/t/b", "re-made at the end");
        tx.write("/t/new/deep", "x");
        tx.setPerms("/t", [{ id: 4, access: "r" }]);
        throw new Error("abort");
      }),
    ).toThrow("abort");
    expect(xs.xenstoreLs("/", { perms: true })).toBe(before);
    const r = xs.transaction((tx) => {
      tx.write("/t/c", "3");
      return tx.read("/t/a");
    });
    expect(r).toBe("1");
    expect(xs.directory("/t")).toEqual(["a", "b", "c"]);
  });

  it("an inner failure caught inside an outer transaction rolls back only the inner part", () => {
    const xs = new XenStore();
    xs.transaction((tx) => {
      tx.write("/o/kept", "1");
      try {
        tx.transaction((inner) => {
          inner.write("/o/dropped", "2");
          throw new Error("inner");
        });
      } catch {
        // expected
      }
    });
    expect(xs.directory("/o")).toEqual(["kept"]);
  });
});

describe("xenstore-ls -f", () => {
  it("prints every node below the path in tree order, root and given path excluded, empty nodes included", () => {
    const xs = new XenStore();
    xs.write("/vm/x", "1");
    xs.write("/local/domain/0/name", "Domain-0");
    xs.write("/local/domain/0/memory/target", "524288");
    expect(xs.xenstoreLs()).toBe(
      [
        '/vm = ""',
        '/vm/x = "1"',
        '/local = ""',
        '/local/domain = ""',
        '/local/domain/0 = ""',
        '/local/domain/0/name = "Domain-0"',
        '/local/domain/0/memory = ""',
        '/local/domain/0/memory/target = "524288"',
        "",
      ].join("\n"),
    );
    expect(xenstoreLs(xs, "/local/domain/0")).toBe(
      '/local/domain/0/name = "Domain-0"\n/local/domain/0/memory = ""\n/local/domain/0/memory/target = "524288"\n',
    );
    expect(new XenStore().xenstoreLs()).toBe("");
    throwsExactly(() => xs.xenstoreLs("/nope"), "EXS_ENOENT", "xenstore ls /nope: no such node (ENOENT)");
  });

  it("-p appends the permission list after three spaces", () => {
    const xs = new XenStore();
    xs.write("/a", "v");
    xs.setPerms("/a", [
      { id: 1, access: "n" },
      { id: 0, access: "r" },
    ]);
    expect(xs.xenstoreLs("/", { perms: true })).toBe('/a = "v"   (n1,r0)\n');
  });

  it("escapes values like sanitise_value: \\t \\n \\r \\\\, octal below 010, \\xNN otherwise, quotes kept", () => {
    expect(sanitiseValue('a\tb\nc\rd\\e"f')).toBe('a\\tb\\nc\\rd\\\\e"f');
    expect(sanitiseValue("\u0000\u0001\u0007")).toBe("\\000\\001\\007");
    expect(sanitiseValue("\u0008\u001b\u007f")).toBe("\\x08\\x1b\\x7f");
    expect(sanitiseValue("é")).toBe("\\xc3\\xa9");
    expect(sanitiseValue(" ~")).toBe(" ~");
    const xs = new XenStore();
    xs.write("/v", "x\ny");
    expect(xs.xenstoreLs()).toBe('/v = "x\\ny"\n');
  });

  it("toJSON is the flat list of entries", () => {
    const xs = new XenStore();
    xs.write("/a/b", "1");
    expect(JSON.parse(JSON.stringify(xs))).toEqual([
      { path: "/a", value: "", perms: ["n0"] },
      { path: "/a/b", value: "1", perms: ["n0"] },
    ]);
  });
});

/**
 * src/common/xen-version.ts against the Xen tree it names: xen/Makefile's version variables and
 * the commit and date of the mirror's HEAD. The mirror is on the machines sshm is developed on,
 * not in CI; where it is missing this says so and checks nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  XEN_COMMIT,
  XEN_COMMIT_DATE,
  XEN_EXTRAVERSION,
  XEN_SUBVERSION,
  XEN_VERSION,
} from "../../src/common/index.js";

const MIRROR = "/work/.mirror/xen-project+xen/repo";
const git = (...args: string[]) => execFileSync("git", ["-C", MIRROR, ...args], { encoding: "utf8" });

describe.skipIf(!existsSync(MIRROR))("the Xen version sshm models (against the mirror)", () => {
  it("is the mirror's HEAD: commit and committer date", () => {
    expect(git("log", "-1", "--format=%H %cs", "HEAD").trim()).toBe(`${XEN_COMMIT} ${XEN_COMMIT_DATE}`);
  });

  it("has xen/Makefile's XEN_VERSION, XEN_SUBVERSION and XEN_EXTRAVERSION", () => {
    const mk = git("show", `${XEN_COMMIT}:xen/Makefile`);
    const v = (name: string) => new RegExp(`^export ${name}\\s*\\??=\\s*(.*)$`, "m").exec(mk)?.[1]?.trim();
    expect(v("XEN_VERSION")).toBe(String(XEN_VERSION));
    expect(v("XEN_SUBVERSION")).toBe(String(XEN_SUBVERSION));
    // "-unstable$(XEN_VENDORVERSION)": no vendor version on an upstream build.
    expect(v("XEN_EXTRAVERSION")).toBe(`${XEN_EXTRAVERSION}$(XEN_VENDORVERSION)`);
  });
});

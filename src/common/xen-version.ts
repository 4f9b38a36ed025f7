/**
 * Which Xen sshm models: every behaviour, message and errno was taken from this tree (the Xen
 * mirror's HEAD), and `sshm --version` and the README say so. XEN_VERSION, XEN_SUBVERSION and
 * XEN_EXTRAVERSION are xen/Makefile's (XEN_EXTRAVERSION ?= -unstable$(XEN_VENDORVERSION), no
 * vendor version); the commit is upstream master of 2026-08-20, the "4.23-unstable (tree of Aug
 * 2026)" the reference docs name. Change them together when sshm is re-checked against a newer
 * tree (test/common/xen-version.test.ts compares them with the mirror when it is there).
 */
export const XEN_VERSION = 4;
export const XEN_SUBVERSION = 23;
export const XEN_EXTRAVERSION = "-unstable";
/** `git log -1 --format=%H HEAD` of xen.git master. */
export const XEN_COMMIT = "c447b7308b1330ec6dcfef37220736c28f41daa0";
/** Its committer date (%cd), as YYYY-MM-DD. */
export const XEN_COMMIT_DATE = "2026-08-20";

/** "4.23-unstable", as xen/Makefile assembles XEN_FULLVERSION. */
export const XEN_FULLVERSION = `${XEN_VERSION}.${XEN_SUBVERSION}${XEN_EXTRAVERSION}`;

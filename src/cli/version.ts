/**
 * `sshm --version`: sshm's own version (package.json) and the Xen tree whose behaviour it models
 * (src/common/xen-version.ts), so a report can be matched to what it predicts.
 */
import { readFileSync } from "node:fs";
import { XEN_COMMIT, XEN_COMMIT_DATE, XEN_FULLVERSION } from "../common/xen-version.js";

export function sshmVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

export function versionText(): string {
  return [
    `sshm ${sshmVersion()}`,
    `models Xen ${XEN_FULLVERSION}: upstream master at ${XEN_COMMIT} (${XEN_COMMIT_DATE})`,
    "xl static_shm: the unmerged libxl series (2019), its man page's rules without its known bugs",
  ].join("\n");
}

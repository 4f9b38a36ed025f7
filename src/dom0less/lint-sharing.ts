/**
 * Shared memory that silently is not shared. Xen ignores a node that only looks like a static-shm
 * node (IGNORED: see lookalike.ts for Xen's two look-ups), and builds a region from whatever
 * nodes it did find, so a slip in one domain's node leaves the region without that domain and
 * nothing says so (UNSHARED).
 *
 * "Looks like it meant to share region R" (id I), precisely: a domain D looks like it meant to
 * share R when D does not map R and either
 *   (a) D's node (its `xen,domain` node; /chosen for the classic Dom0) holds a node Xen ignores
 *       (IGNORED) that names id I in `xen,shm-id` or in a slip of that property's name, or
 *   (b) D maps a region whose id differs from I only in letter case, '_' for '-' or surrounding
 *       blanks (Xen compares ids byte for byte: strncmp in process_shm_node, strcmp in
 *       find_shm_bank_by_id), so the two regions are distinct.
 */
import { SHM_COMPATIBLE } from "./classify.js";
import { normalizeName } from "./near-miss.js";
import type { HostDescription, IgnoredShmNode, ShmParseResult, Warning } from "./types.js";

const q = (s: string): string => JSON.stringify(s);

function domainName(host: HostDescription, path: string): string {
  if (path === "/chosen") return "Dom0";
  return host.domUs.find((d) => d.path === path)?.name ?? path;
}

function list(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function ignoredMessage(host: HostDescription, parse: ShmParseResult, n: IgnoredShmNode): string {
  const dom = n.domain === undefined ? undefined : domainName(host, n.domain);
  const regionExists = n.id !== undefined && parse.banks.some((b) => b.id === n.id);
  const consequence =
    (dom === undefined ? "no domain maps anything from it" : `${dom} maps nothing from it`) +
    (n.id !== undefined && !regionExists ? ` and no region ${q(n.id)} exists` : "");
  const withs: string[] = [];
  if (n.badCompatible) withs.push(`compatible = ${q(SHM_COMPATIBLE)}`);
  for (const [written, binding] of n.nearProps) withs.push(`${binding} instead of ${written}`);
  const w = withs.length > 0 ? ` with ${withs.join(" and ")}` : "";
  let fix: string;
  if (n.fixPath === undefined) fix = `a direct child of a "xen,domain" node under /chosen${w}`;
  else if (n.fixPath !== n.path)
    fix = `${n.fixPath}, a direct child of ${n.domain === "/chosen" ? "/chosen (Dom0)" : `${n.domain} (${dom})`}${w}`;
  else fix = `${n.path}${w}`;
  return `${n.path} looks like a static shared memory node (${n.signs.join(", ")}) but Xen ignores it: ${n.reasons.join("; ")}. ${consequence}; nearest valid form: ${fix}`;
}

export function lintSharing(host: HostDescription, parse: ShmParseResult): Warning[] {
  const out: Warning[] = [];
  for (const n of host.ignoredShmNodes)
    out.push({ code: "IGNORED", node: n.path, message: ignoredMessage(host, parse, n) });

  const mappedBy = (bankIndex: number): string[] => [
    ...new Set(
      parse.nodes
        .filter((n) => n.bankIndex === bankIndex && n.mappedBy !== undefined)
        .map((n) => n.mappedBy!),
    ),
  ];

  for (const bank of parse.banks) {
    const users = mappedBy(bank.index);
    const first = parse.nodes.find((n) => n.bankIndex === bank.index && n.mappedBy !== undefined);
    if (!first) continue;

    // (a) a node Xen ignores, in a domain that does not map the region, names its id.
    const missing = host.ignoredShmNodes.filter(
      (n) => n.id === bank.id && n.domain !== undefined && !users.includes(n.domain),
    );
    if (missing.length > 0) {
      const doms = [...new Set(missing.map((n) => n.domain!))];
      const ownerOnly = parse.nodes
        .filter((n) => n.bankIndex === bank.index && n.mappedBy !== undefined)
        .every((n) => n.role === "owner");
      out.push({
        code: "UNSHARED",
        node: first.path,
        message: `region ${q(bank.id)} is mapped by ${list(users.map((u) => domainName(host, u)))} only, but ${list(doms.map((d) => domainName(host, d)))} ${doms.length > 1 ? "look" : "looks"} like ${doms.length > 1 ? "they" : "it"} meant to share it: ${missing.map((n) => `${n.path} names id ${q(bank.id)} but Xen ignores that node (IGNORED)`).join("; ")}; Xen builds ${list(doms.map((d) => domainName(host, d)))} without the region${ownerOnly ? ", which keeps its owner and no borrower" : ""}`,
      });
    }

    // (b) another region whose id differs only in case, '_' or blanks.
    for (const other of parse.banks) {
      if (other.index >= bank.index || other.id === bank.id) continue;
      if (normalizeName(other.id) !== normalizeName(bank.id)) continue;
      const others = mappedBy(other.index);
      if (others.length === 0) continue;
      out.push({
        code: "UNSHARED",
        node: first.path,
        message: `regions ${q(other.id)} (${list(others.map((u) => domainName(host, u)))}) and ${q(bank.id)} (${list(users.map((u) => domainName(host, u)))}) have ids that differ only in letter case, '_' for '-' or surrounding blanks: Xen compares ids byte for byte (strncmp in process_shm_node, strcmp in process_shm), so they are two regions and nothing is shared between them`,
      });
    }
  }
  return out;
}

/**
 * Nodes under /chosen that look like static-shm nodes but that Xen never processes. Xen finds the
 * binding's nodes twice, both times by the compatible alone:
 * - at boot, `early_scan_node` (xen/common/device-tree/bootinfo-fdt.c) calls `process_shm_node`
 *   for a node at depth <= 3 (`device_tree_for_each_node` depth, root = 0) whose compatible list
 *   holds "xen,domain-shared-memory-v1" (`device_tree_node_compatible`, strcasecmp);
 * - at domain construction, `process_shm` (xen/common/device-tree/static-shmem.c) walks only the
 *   direct children of the domain node (`dt_for_each_child_node`; /chosen for the classic Dom0)
 *   and skips any whose compatible is not the binding's (`dt_device_is_compatible`).
 * Anything else is skipped without a message: no bank, no mapping, no error.
 */
import { getProp } from "../fdt/tree.js";
import { isDomainNodeUnderChosen, SHM_COMPATIBLE } from "./classify.js";
import { editDistance, isNearShmCompatible, nearShmProp, SHM_ID_PROP, SHM_MEM_PROP } from "./near-miss.js";
import { cString, cStringList } from "./raw.js";
import type { IgnoredShmNode } from "./types.js";
import type { WalkEntry } from "./walk.js";

const q = (s: string): string => JSON.stringify(s);

/** A /chosen child that was probably meant as a domain node: it has `memory`, or a compatible close to "xen,domain". */
function looksLikeDomainNode(e: WalkEntry): boolean {
  if (getProp(e.node, "memory")) return true;
  const c = getProp(e.node, "compatible");
  return (
    c !== undefined && cStringList(c.value).some((s) => editDistance(s.toLowerCase(), "xen,domain") <= 2)
  );
}

/** Every node under /chosen that looks like a static-shm node and that Xen ignores, in FDT order. */
export function findIgnoredShmNodes(entries: readonly WalkEntry[], dom0: boolean): IgnoredShmNode[] {
  const out: IgnoredShmNode[] = [];
  for (const e of entries) {
    if (e.depth < 2 || !e.path.startsWith("/chosen/") || isDomainNodeUnderChosen(e)) continue;
    const compatP = getProp(e.node, "compatible");
    const compat = compatP ? cStringList(compatP.value) : [];
    const hasBinding = compat.some((s) => s.toLowerCase() === SHM_COMPATIBLE);
    // At depth <= 3 a node with the binding's compatible is Xen's (parsed, or taken by an earlier
    // branch of early_scan_node): not a look-alike.
    if (hasBinding && e.depth <= 3) continue;

    const signs: string[] = [];
    const near = compat.find(isNearShmCompatible);
    if (hasBinding) signs.push(`compatible ${q(SHM_COMPATIBLE)}`);
    else if (near !== undefined) signs.push(`compatible ${q(near)}`);
    const nearProps: [string, string][] = [];
    for (const p of e.node.props) {
      if (p.name === SHM_ID_PROP || p.name === SHM_MEM_PROP) signs.push(p.name);
      else {
        const k = nearShmProp(p.name);
        if (k !== undefined) {
          nearProps.push([p.name, k]);
          if (k !== "role") signs.push(p.name);
        }
      }
    }
    if (signs.length === 0) continue;

    // The domain the node sits in, and where its nearest valid form goes.
    const parts = e.path.split("/");
    const top = parts.slice(0, 3).join("/");
    const topEntry = entries.find((x) => x.path === top);
    let domain: string | undefined;
    const reasons: string[] = [];
    if (!hasBinding)
      reasons.push(
        compat.length === 0
          ? `it has no compatible, and Xen recognises a static-shm node only by compatible = ${q(SHM_COMPATIBLE)}`
          : `its compatible ${compat.map(q).join(", ")} is not ${q(SHM_COMPATIBLE)} (early_scan_node and process_shm compare it exactly, ignoring only case)`,
      );
    if (e.depth > 3)
      reasons.push(
        `it is at depth ${e.depth}, inside ${e.parent?.path ?? "?"}: early_scan_node parses static-shm nodes only at depth 3 or less, and process_shm maps only direct children of the domain node`,
      );
    if (topEntry && isDomainNodeUnderChosen(topEntry)) domain = top;
    else if (topEntry && e.depth > 2 && looksLikeDomainNode(topEntry))
      reasons.push(
        `${top} looks like a domain node but is not compatible "xen,domain", so Xen builds no domain from it`,
      );
    else if (dom0) domain = "/chosen";
    else
      reasons.push(
        "there is no classic Dom0 (no Dom0 kernel module), so Xen maps no node outside a xen,domain node into any domain",
      );
    if (e.depth === 3 && domain === "/chosen" && e.parent)
      reasons.push(
        `its parent ${e.parent.path} is not a domain node, and Dom0 maps only direct children of /chosen`,
      );

    const idProp =
      getProp(e.node, SHM_ID_PROP) ?? e.node.props.find((p) => nearShmProp(p.name) === SHM_ID_PROP);
    out.push({
      path: e.path,
      node: e.node,
      depth: e.depth,
      loc: e.node.loc,
      signs,
      reasons,
      badCompatible: !hasBinding,
      nearProps,
      id: idProp ? cString(idProp.value) : undefined,
      domain,
      fixPath: domain === undefined ? undefined : `${domain}/${e.node.name}`,
    });
  }
  return out;
}

/**
 * PROP_NAME: a parsed static-shm node with a property whose name is a slip of `role`. Xen reads
 * only `role` (`fdt_get_property` in process_shm_node, `dt_property_read_string` in process_shm),
 * so the slip is ignored and the node has no role: it counts as a borrower (nr_shm_borrowers) and,
 * unless another node names an owner, its region is owned by dom_io (handle_shared_mem_bank).
 * Slips of `xen,shm-id` and `xen,shared-mem` need no warning: without the real property the parse
 * fails (-ENOENT), and the note on that failure names the slip (notes.ts).
 */

import { nearShmProp, SHM_ROLE_PROP } from "./near-miss.js";
import { cString } from "./raw.js";
import type { HostDescription, ShmParseResult, Warning } from "./types.js";

export function lintPropNames(host: HostDescription, parse: ShmParseResult): Warning[] {
  const out: Warning[] = [];
  for (const n of parse.nodes) {
    if (n.role !== undefined) continue;
    const node = host.shmNodes.find((s) => s.path === n.path)?.node;
    const slip = node?.props.find((p) => p.name !== SHM_ROLE_PROP && nearShmProp(p.name) === SHM_ROLE_PROP);
    if (!slip) continue;
    out.push({
      code: "PROP_NAME",
      node: n.path,
      message: `${n.path} has ${slip.name} = ${JSON.stringify(cString(slip.value))}, which Xen does not read (did you mean role?): the node has no role, so it counts as a borrower of id ${JSON.stringify(n.id)} and, unless another node names an owner, the region is owned by dom_io`,
    });
  }
  return out;
}

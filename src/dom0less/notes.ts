/**
 * sshm notes: the line a user needs next to Xen's own when Xen's message leaves the cause unsaid.
 * They never replace Xen's lines (the console stays exact); they follow them.
 *
 * - `process_shm_node` returns -ENOENT without a message when `xen,shm-id` or `xen,shared-mem`
 *   is absent (Xen prints only "fdt: node `<name>': parsing failed" and the panic): say which
 *   property is missing, and which property of the node looks like a slip of its name.
 * - `xen,shared-mem` is read by its length: (2·ac + sc) cells are the host form <host guest size>,
 *   (ac + sc) cells the heap form <guest size>. A host-form value with one cell left out is
 *   therefore read as the heap form; when that reading ends in an error or a warning, say how Xen
 *   read it. Any other length is "invalid `xen,shared-mem` property.": say which lengths it takes.
 */
import type { FdtTree } from "../fdt/tree.js";
import { getProp } from "../fdt/tree.js";
import { scanKind } from "./classify.js";
import { nearShmProp, SHM_ID_PROP, SHM_MEM_PROP } from "./near-miss.js";
import { cellCount, readU64 } from "./raw.js";
import type { ShmParseResult } from "./types.js";
import { type WalkEntry, walkAll } from "./walk.js";

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** The checks of process_shm_node that come after the heap-form reading of xen,shared-mem. */
const AFTER_READING = [
  "fdt: guest address ",
  "fdt: the size for static shared memory region can not be zero",
  "fdt: size ",
  "fdt: different shared memory region could not share the same shm ID ",
];

function missingNote(e: WalkEntry, prop: string): string {
  const slips = e.node.props.filter((p) => nearShmProp(p.name) === prop).map((p) => p.name);
  const why = "process_shm_node returns -ENOENT (-2) without a message of its own";
  return slips.length > 0
    ? `${e.path}: ${prop} is missing (did you mean ${slips.join(" or ")}?); ${why}`
    : `${e.path}: ${prop} is missing; ${why}, and every static shared memory node needs it`;
}

function heapReading(e: WalkEntry): string | undefined {
  const p = getProp(e.node, SHM_MEM_PROP);
  if (!p || p.value.length !== (e.ac + e.sc) * 4 || p.value.length === (2 * e.ac + e.sc) * 4)
    return undefined;
  const g = readU64(p.value, 0, e.ac);
  const s = readU64(p.value, e.ac, e.sc);
  return `${e.path}: read as heap form: guest ${hex(g)}, size ${hex(s)} (${SHM_MEM_PROP} has ${e.ac + e.sc} cells, #address-cells ${e.ac} + #size-cells ${e.sc}; the host form <host guest size> has ${2 * e.ac + e.sc})`;
}

/**
 * Notes for a boot: the parse failure's cause, and how Xen read the `xen,shared-mem` of every
 * heap-form node named by `faultNodes` (the nodes of warnings and the node a build failed at).
 */
export function shmNotes(tree: FdtTree, parse: ShmParseResult, faultNodes: readonly string[]): string[] {
  const entries = walkAll(tree);
  const entry = (path: string): WalkEntry | undefined =>
    entries.find((e) => e.path === path && scanKind(e) === "shm");
  const out: string[] = [];
  const err = parse.error;
  const failed = err ? entry(err.node) : undefined;
  if (err && failed) {
    if (err.rc === -2) {
      if (!getProp(failed.node, SHM_ID_PROP)) out.push(missingNote(failed, SHM_ID_PROP));
      else if (!getProp(failed.node, SHM_MEM_PROP)) out.push(missingNote(failed, SHM_MEM_PROP));
    } else if (err.message === "fdt: invalid `xen,shared-mem` property.") {
      const p = getProp(failed.node, SHM_MEM_PROP);
      const { ac, sc } = failed;
      out.push(
        `${failed.path}: ${SHM_MEM_PROP} has ${p ? cellCount(p.value) : 0} cells${p && p.value.length % 4 !== 0 ? ` and ${p.value.length % 4} bytes` : ""}, but with #address-cells ${ac} and #size-cells ${sc} Xen takes ${2 * ac + sc} (host form <host guest size>) or ${ac + sc} (heap form <guest size>)`,
      );
    } else if (AFTER_READING.some((m) => err.message.startsWith(m))) {
      const h = heapReading(failed);
      if (h) out.push(h);
    }
  }
  for (const path of new Set(faultNodes)) {
    const n = parse.nodes.find((x) => x.path === path);
    const e = n?.form === "heap" ? entry(path) : undefined;
    const h = e ? heapReading(e) : undefined;
    if (h && !out.includes(h)) out.push(h);
  }
  return out;
}

/**
 * "Did you mean …?" for the static-shm binding. Xen matches the binding's strings exactly: the
 * compatible ignoring ASCII case (`device_tree_node_compatible` at the early scan,
 * `dt_device_is_compatible` in `process_shm`, both `strcasecmp`), property names byte for byte
 * (`fdt_get_property`, `dt_find_property`). A near miss is therefore silently a different string
 * to Xen, and these rules say which different strings look like a slip of the binding's own.
 */
import { SHM_COMPATIBLE } from "./classify.js";

/** The binding's property names (docs/misc/arm/device-tree/booting.txt, "Static Shared Memory"). */
export const SHM_ID_PROP = "xen,shm-id";
export const SHM_MEM_PROP = "xen,shared-mem";
export const SHM_ROLE_PROP = "role";
export const SHM_PROPS: readonly string[] = [SHM_ID_PROP, SHM_ROLE_PROP, SHM_MEM_PROP];

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transposition): the number of
 * single-character insertions, deletions, substitutions and swaps of neighbours between a and b.
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  // Three rolling rows: the transposition step looks two rows back.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/** ASCII lower case, '_' and ' ' read as '-', surrounding blanks dropped. */
export function normalizeName(s: string): string {
  return s.trim().toLowerCase().replace(/[_ ]/g, "-");
}

const stripXen = (s: string): string => (s.startsWith("xen,") ? s.slice(4) : s);

/**
 * A property name that is not `known` but looks like a slip of it: equal once normalised
 * (`xen,shm_id`, `Role`), equal without the `xen,` prefix on either side (`shm-id`,
 * `xen,role`), or within edit distance 2 of it once normalised (1 for names shorter than 8
 * characters, so that `role` does not match every 4-letter word).
 */
export function isNearPropName(name: string, known: string): boolean {
  if (name === known) return false;
  const a = normalizeName(name);
  const b = normalizeName(known);
  if (a === b || stripXen(a) === stripXen(b)) return true;
  return editDistance(a, b) <= (b.length >= 8 ? 2 : 1);
}

/** The binding property `name` is probably a slip of, if any. */
export function nearShmProp(name: string): string | undefined {
  return SHM_PROPS.find((k) => isNearPropName(name, k));
}

/**
 * A compatible string that is not the binding's but looks meant as it (`xen,domain-shared-mem-v1`,
 * `xen,domain-shared-memory`, `xen,shared-memory-v1`, the guest-side binding): within edit
 * distance 4 of "xen,domain-shared-memory-v1" ignoring case, or naming shared memory outright
 * ("shared-mem", "shared_mem", "sharedmem", "shmem", or "shm" as a word between ",", "-", "_").
 * An exact match ignoring case is the binding itself (Xen compares with strcasecmp).
 */
export function isNearShmCompatible(s: string): boolean {
  const c = s.toLowerCase();
  if (c === SHM_COMPATIBLE) return false;
  if (editDistance(c, SHM_COMPATIBLE) <= 4) return true;
  return /shared[-_]?mem|shmem|(^|[,_-])shm([,_-]|$)/.test(c);
}

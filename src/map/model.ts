/**
 * The memory-map model the picture is drawn from. The boot report (src/domains) fills it; the
 * renderers here only read it. Addresses and sizes are plain numbers (exact up to 2^53, enough for a
 * 48-bit host and a 40-bit IPA space).
 */

export interface MapRange {
  start: number;
  size: number;
}

export interface MapHostRegion extends MapRange {
  kind: "ram" | "reserved" | "module" | "shm" | "heap-shm";
  label: string;
  /** shm id for kind shm */
  id?: string;
  owner?: string;
  /** node path or file position */
  source?: string;
  /** Page reference count per page of the region, when known (shown in the tooltip). */
  refcount?: number;
  /**
   * For a boot Xen refused in its early FDT scan: "parsed" for a region it had registered before it
   * stopped, "refused" for the one whose check failed. Absent for regions of a built system.
   */
  stage?: "parsed" | "refused";
  /** A remark for the tooltip (why the region is drawn although no domain was built). */
  note?: string;
}

export interface MapMapping {
  /** guest range */
  gstart: number;
  size: number;
  /** host range it maps to */
  hstart: number;
  kind: "ram" | "shm";
  id?: string;
  role?: "owner" | "borrower" | "dom_io-borrower";
  p2mType?: string;
  /** block sizes used, e.g. "2x2M + 3x4K" */
  blocks?: string;
  offset?: number;
  source?: string;
}

export interface MapDomain {
  name: string;
  domid: number;
  mappings: MapMapping[];
  /** Direct-mapped domains (P == G); shown next to the column header. */
  directMapped?: boolean;
}

export interface MapWarning {
  code: string;
  message: string;
  node?: string;
  /** ranges to highlight */
  host?: MapRange[];
  guest?: { domain: string; range: MapRange }[];
}

export interface MemoryMap {
  title: string;
  verdict: "accepted" | "rejected" | "crash";
  host: MapHostRegion[];
  domains: MapDomain[];
  warnings: MapWarning[];
}

/**
 * A static shared memory region as the running system knows it: its id, its backing (a static host
 * range or heap chunks), who owns the pages and who maps them.
 */
import type { DomId } from "../common/index.js";

export interface RegionChunk {
  /** Host physical address of the chunk. */
  readonly start: number;
  readonly size: number;
}

export interface RegionRecord {
  readonly id: string;
  readonly size: number;
  /** "host": static host range given by the user; "heap": allocated from the Xen heap at build. */
  readonly form: "host" | "heap" | "owner-ram";
  /** Host chunks backing the region (one for the host form; power-of-two chunks for the heap form). */
  readonly chunks: RegionChunk[];
  /** Xen's nr_shm_borrowers (DT) or live borrowers (xl). */
  nrBorrowers: number;
  /** Owner domid (DOMID_IO for dom_io), undefined while nobody owns the pages. */
  owner: DomId | undefined;
  /** Domains that mapped the region as borrowers (in order), with their guest addresses. */
  readonly borrowers: { domid: DomId; gaddr: number; size: number; offset: number }[];
  /** Owner's own mapping (explicit owners only). */
  ownerMapping: { gaddr: number; size: number; offset: number } | undefined;
  /** Where it was first described. */
  readonly source: string;
}

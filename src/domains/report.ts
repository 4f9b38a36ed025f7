/**
 * The boot report: what Xen would do with a configuration (verdict, phase, log, panic), and the
 * system it builds (domains with their RAM and shm mappings, regions with owners, borrowers and
 * page reference counts), plus sshm's warnings for what Xen accepts but is almost surely a mistake.
 * Plain data: it serialises to the JSON the CLI prints.
 */
export type Verdict = "accepted" | "rejected" | "crash";

export type BootPhase = "parse" | "memory" | "build";

export interface MappingReport {
  /** Guest range. */
  readonly gstart: number;
  readonly size: number;
  /** Host range it maps to. */
  readonly hstart: number;
  readonly kind: "ram" | "shm";
  readonly id?: string;
  readonly role?: "owner" | "borrower" | "dom_io-borrower";
  /** p2m type name of the entries (p2m_ram_rw, p2m_map_foreign_rw). */
  readonly p2mType: string;
  /** Entries by size, e.g. "2x2M + 3x4K" (the block sizes Xen chose). */
  readonly blocks: string;
  readonly offset?: number;
  readonly source?: string;
}

export interface DomainReport {
  readonly domid: number;
  readonly name: string;
  readonly vmid: number;
  readonly state: "running" | "dying" | "destroyed";
  readonly directMap: boolean;
  readonly totPages: number;
  readonly maxPages: number;
  readonly mappings: MappingReport[];
  readonly source: string;
  /** Size of the domain's IPA space (Xen's p2m_ipa_bits: the same for every domain). */
  readonly ipaBits: number;
  /** VTCR_EL2 while the domain runs, "0x…". */
  readonly vtcr: string;
  /** VTTBR_EL2 (root table address | VMID << 48), "0x…". */
  readonly vttbr: string;
}

export interface RefcountRun {
  /** First host frame of the run. */
  readonly mfn: number;
  readonly pages: number;
  readonly count: number;
}

export interface RegionReport {
  readonly id: string;
  readonly form: "host" | "heap" | "owner-ram";
  /** Host address for the host form, null for the heap form (see chunks). */
  readonly host: number | null;
  readonly chunks: { start: number; size: number }[];
  readonly size: number;
  /** "dom_io", a domain name, or null when nobody owns the pages (bug B5). */
  readonly owner: string | null;
  readonly borrowers: { domain: string; gaddr: number; offset: number }[];
  /** Xen's nr_shm_borrowers (DT) or live borrowers (xl). */
  readonly nrBorrowers: number;
  /** Reference count of every page, run-length encoded. */
  readonly refcounts: RefcountRun[];
  readonly source: string;
}

export interface ReportWarning {
  readonly code: string;
  /** Node path or file position the warning is about. */
  readonly node: string;
  readonly message: string;
}

/** The host CPU's PA range and the stage-2 configuration Xen derives from it (setup_virt_paging). */
export interface PaRangeReport {
  /** ID_AA64MMFR0_EL1.PARange of system_cpuinfo, in bits. */
  readonly paBits: number;
  /** Where sshm got it: the host DT's cpu compatible, --pa-bits / --cpu, or its 40-bit default. */
  readonly source: "cpu" | "option" | "default";
  /** The same in words (which cpu node and compatible, which option). */
  readonly why: string;
  /** p2m_ipa_bits: min(PADDR_BITS = 48, PA range), the IPA size of every domain. */
  readonly ipaBits: number;
  readonly vtcr: string;
  /** 4 - P2M_ROOT_LEVEL. */
  readonly levels: number;
  readonly rootLevel: number;
  /** P2M_ROOT_PAGES: concatenated root tables. */
  readonly rootPages: number;
  readonly vmidBits: 8 | 16;
}

export interface GuestDtReport {
  readonly domain: string;
  readonly dts: string;
  /** What sshm assumed or did not compute for this tree (a partial host tree, unprobed kernels). */
  readonly notes?: readonly string[];
}

/** A loaded domU's kernel as construct_domain placed it (only when module bytes were loaded). */
export interface KernelReport {
  readonly domain: string;
  readonly format: "Image" | "zImage" | "uImage";
  readonly aarch64: boolean;
  /** Guest addresses (hex strings: u64). */
  readonly load: string;
  readonly entry: string;
  /** Bytes copied (the whole module for an Image) and the DTB's totalsize, hex. */
  readonly size: string;
  readonly dtb: string;
  readonly dtbSize: string;
  readonly initrd: string | null;
  /** vCPU 0's first x0, PC, PSTATE, SCTLR_EL1, MPIDR_EL1 (hex). */
  readonly x0: string;
  readonly pstate: string;
  readonly sctlr: string;
  readonly mpidr: string;
}

export interface BootReport {
  readonly source: string;
  readonly kind: "dom0less" | "xl";
  readonly verdict: Verdict;
  /**
   * Where it stopped: Xen's early FDT parse, its memory setup (setup_mm: the frame table and the
   * static banks' pages), or domain construction. null when accepted.
   */
  readonly phase: BootPhase | null;
  /** What Xen prints about static shared memory, up to and including the panic line. */
  readonly log: string[];
  readonly panic: string | null;
  /** Node (with file position when known) where Xen stopped. */
  readonly failedNode: string | null;
  readonly domains: DomainReport[];
  readonly regions: RegionReport[];
  readonly warnings: ReportWarning[];
  /** PA range and stage-2 configuration. */
  readonly paRange: PaRangeReport;
  readonly guestDts: GuestDtReport[];
  /** xenstore-ls -f of the toolstack's records (xl). */
  readonly xenstore: string[];
  /** Each loaded domU's kernel placement and first registers; absent when nothing was loaded. */
  readonly kernels?: KernelReport[];
  /** The Xen build modelled when kernels were loaded ("debug" or "release"). */
  readonly xenBuild?: string;
  /** sshm's explanations printed beside Xen's lines (never instead of them). */
  readonly notes: string[];
}

/**
 * A built system: the hypervisor with its domains and static shared memory regions, able to
 * report on itself and to destroy domains the way Xen does. Both front-ends (a dom0less boot and
 * xl create) produce one.
 */

import { DOMID_IO, type DomId, SshmError } from "../common/index.js";
import type { FdtTree } from "../fdt/index.js";
import { guestDtToDtb, guestDtToDts, makeDomUDt, makeHwdomDt } from "../guestdt/index.js";
import { INVALID_MFN } from "../p2m/index.js";
import type { Domain } from "./domain.js";
import type { Hypervisor } from "./hypervisor.js";
import type { RegionRecord } from "./region.js";
import type {
  BootPhase,
  BootReport,
  DomainReport,
  GuestDtReport,
  KernelReport,
  MappingReport,
  PaRangeReport,
  RefcountRun,
  RegionReport,
  ReportWarning,
  Verdict,
} from "./report.js";

export interface SystemInit {
  readonly hv: Hypervisor;
  readonly kind: "dom0less" | "xl";
  readonly source: string;
  readonly regions: Map<string, RegionRecord>;
  readonly warnings: ReportWarning[];
  readonly paRange: PaRangeReport;
}

export class System {
  readonly hv: Hypervisor;
  readonly kind: "dom0less" | "xl";
  readonly source: string;
  readonly regions: Map<string, RegionRecord>;
  readonly warnings: ReportWarning[];
  /** sshm notes beside Xen's lines (e.g. why a mapping failed). */
  readonly notes: string[] = [];
  readonly paRange: PaRangeReport;
  /** The host DT (dom0less), from which the hardware domain's DT is derived. */
  hostTree: FdtTree | undefined;
  /** xenstore-ls -f lines (xl). */
  xenstoreOf: () => string[] = () => [];

  constructor(init: SystemInit) {
    this.hv = init.hv;
    this.kind = init.kind;
    this.source = init.source;
    this.regions = init.regions;
    this.warnings = init.warnings;
    this.paRange = init.paRange;
  }

  get domains(): Domain[] {
    return this.hv.domains;
  }

  /** A live domain by name or domid. */
  domain(nameOrId: string | number): Domain {
    const d =
      typeof nameOrId === "number" || /^\d+$/.test(nameOrId)
        ? this.hv.domain(Number(nameOrId))
        : this.hv.domainByName(nameOrId);
    if (!d || d.state === "destroyed")
      throw new SshmError(
        "ENODOM",
        `no domain ${JSON.stringify(nameOrId)} (domains: ${this.hv.domains.map((x) => x.name).join(", ") || "none"})`,
      );
    return d;
  }

  /** Destroy a domain (dom0less: as a control domain's destroy would; xl: see XlHost). */
  destroy(nameOrId: string | number): void {
    const d = this.domain(nameOrId);
    if (d.state !== "running") throw new SshmError("ENODOM", `${d.name} is already ${d.state}`);
    const before = this.hv.underflows.length;
    this.hv.destroyDomain(d.domid);
    for (const u of this.hv.underflows.slice(before))
      this.warnings.push({
        code: "B5",
        node: d.name,
        message: `destroying ${d.name}: put_page on mfn ${u.mfn.toString(16)} (an L${u.level} foreign entry) with count 0 — the pages have no owner holding references; Xen ASSERTs in debug builds and wraps the count in release builds`,
      });
  }

  report(
    status: { verdict: Verdict; phase: BootPhase | null; panic: string | null; failedNode: string | null } = {
      verdict: "accepted",
      phase: null,
      panic: null,
      failedNode: null,
    },
  ): BootReport {
    return {
      source: this.source,
      kind: this.kind,
      ...status,
      log: [...this.hv.log],
      domains: this.hv.domains.map((d) => this.domainReport(d)),
      regions: [...this.regions.values()].map((r) => this.regionReport(r)),
      warnings: [...this.warnings],
      notes: [...this.notes],
      paRange: this.paRange,
      guestDts: status.verdict === "accepted" ? this.guestDts() : [],
      ...this.kernelReports(status.verdict === "accepted"),
      xenstore: this.xenstoreOf(),
    };
  }

  /** Set when the boot loaded module bytes (bootDom0less with hostImages). */
  xenBuild: string | undefined;

  private kernelReports(accepted: boolean): { kernels?: KernelReport[]; xenBuild?: string } {
    if (this.xenBuild === undefined) return {};
    const hex = (v: bigint) => `0x${v.toString(16)}`;
    const kernels: KernelReport[] = [];
    for (const d of this.hv.domains) {
      const k = d.domUBoot?.kernel;
      if (!accepted || !k || d.state !== "running") continue;
      const v0 = k.vcpus[0]!;
      kernels.push({
        domain: d.name,
        format: k.image.format,
        aarch64: k.image.is64,
        load: hex(k.placement.loadAddr),
        entry: hex(k.placement.entry),
        size: hex(k.image.len),
        dtb: hex(k.placement.dtbAddr),
        dtbSize: hex(BigInt(d.domUBoot!.dtb.length)),
        initrd: d.domUBoot!.input.initrd ? hex(k.placement.initrdAddr) : null,
        x0: hex(v0.x[0]!),
        pstate: `0x${v0.pstate.toString(16)}`,
        sctlr: hex(v0.sysregs.SCTLR_EL1),
        mpidr: hex(v0.sysregs.MPIDR_EL1),
      });
    }
    return { kernels, xenBuild: this.xenBuild };
  }

  /**
   * Each running guest's device tree: for a dom0less domU the complete tree prepare_dtb_domU
   * built; for the hardware domain and xl guests the memory and static-shm nodes Xen and libxl
   * write (the rest of those trees comes from the host tree or libxl and is not modelled).
   */
  guestDts(): GuestDtReport[] {
    return this.guestDtbs().map(({ domain, dts, notes }) =>
      notes.length > 0 ? { domain, dts, notes } : { domain, dts },
    );
  }

  /** guestDts() with each tree's blob: Xen's own bytes for a dom0less domU. */
  guestDtbs(): { domain: string; dts: string; dtb: Uint8Array; notes: string[] }[] {
    return this.hv.domains
      .filter((d) => d.state === "running")
      .map((d) => {
        if (d.domUBoot) {
          const input = d.domUBoot.input;
          const notes = [...input.platform.notes];
          if (input.directMap && input.vpl011)
            notes.push(
              `${d.name}: Xen gives a direct-mapped domain's vpl011 the host UART's address and interrupt (serial_vuart_info), not modelled: sbsa-uart shows the guest layout's`,
            );
          if (input.directMap && input.features & 1)
            notes.push(
              `${d.name}: a direct-mapped domain's extended regions come from the host layout (find_host_extended_regions), not modelled: /hypervisor shows find_domU_holes'`,
            );
          if (input.partialDtbSize)
            notes.push(
              `${d.name}: the nodes of its multiboot,device-tree module (/aliases, /passthrough) are not modelled and not in this tree`,
            );
          if (!d.domUBoot.kernel)
            notes.push(
              "kernels not probed (no bytes loaded at the modules' addresses): the domain is taken to be 64-bit; where Xen would place the kernel and this DTB, and the vCPU's first registers, are not computed",
            );
          return { domain: d.name, dts: guestDtToDts(d.domUBoot.tree), dtb: d.domUBoot.dtb, notes };
        }
        const input = { ramBanks: d.ramBanks(), shm: d.guestShm };
        const tree = d.domid === 0 && this.hostTree ? makeHwdomDt(this.hostTree, input) : makeDomUDt(input);
        return { domain: d.name, dts: guestDtToDts(tree), dtb: guestDtToDtb(tree), notes: [] };
      });
  }

  private domainReport(d: Domain): DomainReport {
    const mappings: MappingReport[] = [];
    for (const r of d.ram)
      mappings.push({
        gstart: r.gstart,
        size: r.size,
        hstart: r.hstart,
        kind: "ram",
        p2mType: "p2m_ram_rw",
        blocks: d.state === "running" ? blockSummary(d, r.gstart, r.size) : "",
      });
    for (const s of d.shm)
      mappings.push({
        gstart: s.gstart,
        size: s.size,
        hstart: s.hstart,
        kind: "shm",
        id: s.id,
        role: s.role,
        p2mType: s.role === "owner" ? "p2m_ram_rw" : "p2m_map_foreign_rw",
        blocks: d.state === "running" ? blockSummary(d, s.gstart, s.size) : "",
        offset: s.offset,
        source: s.source,
      });
    return {
      domid: d.domid,
      name: d.name,
      vmid: d.vmid,
      state: d.state,
      directMap: d.directMap,
      totPages: d.pages.totPages,
      maxPages: d.pages.maxPages,
      mappings,
      source: d.source,
      ipaBits: d.p2m.cfg.ipaBits,
      vtcr: `0x${d.p2m.cfg.vtcr.toString(16)}`,
      vttbr: `0x${((BigInt(d.p2m.vttbr.hi) << 32n) | BigInt(d.p2m.vttbr.lo)).toString(16)}`,
    };
  }

  private ownerName(o: DomId | undefined): string | null {
    if (o === undefined) return null;
    if (o === DOMID_IO) return "dom_io";
    return this.hv.domain(o)?.name ?? `d${o} (destroyed)`;
  }

  private regionReport(r: RegionRecord): RegionReport {
    const refcounts: RefcountRun[] = [];
    const f = this.hv.machine.frames;
    for (const c of r.chunks) {
      const m0 = c.start / 4096;
      for (let i = 0; i < c.size / 4096; i++) {
        const pdx = f.ram.mfnToPdx(m0 + i);
        const count = pdx < 0 ? 0 : f.getCount(pdx);
        const last = refcounts[refcounts.length - 1];
        if (last && last.count === count && last.mfn + last.pages === m0 + i)
          (last as { pages: number }).pages++;
        else refcounts.push({ mfn: m0 + i, pages: 1, count });
      }
    }
    return {
      id: r.id,
      form: r.form,
      host: r.form === "host" ? (r.chunks[0]?.start ?? null) : null,
      chunks: r.chunks.map((c) => ({ ...c })),
      size: r.size,
      owner: this.ownerName(r.owner),
      borrowers: r.borrowers
        .filter((b) => this.hv.domain(b.domid)?.state === "running")
        .map((b) => ({ domain: this.hv.domain(b.domid)!.name, gaddr: b.gaddr, offset: b.offset })),
      nrBorrowers: r.nrBorrowers,
      refcounts,
      source: r.source,
    };
  }

  /** Reference counts of a region's pages (the distinct values, for quick checks). */
  regionCounts(id: string): number[] {
    const r = this.regions.get(id);
    if (!r) throw new SshmError("ENOREGION", `no static shared memory region "${id}"`);
    return [...new Set(this.regionReport(r).refcounts.map((x) => x.count))];
  }
}

/** "2x2M + 3x4K": the leaf entries covering [gstart, gstart+size) in d's p2m. */
export function blockSummary(d: Domain, gstart: number, size: number): string {
  const counts = [0, 0, 0, 0];
  let g = gstart / 4096;
  const end = (gstart + size) / 4096;
  let holes = 0;
  while (g < end) {
    const e = d.p2m.lookup(g);
    const span = 2 ** e.order;
    if (e.mfn === INVALID_MFN) holes++;
    else counts[e.level]!++;
    g = g - (g % span) + span;
  }
  const names = ["512G", "1G", "2M", "4K"];
  const parts = counts.map((n, l) => (n ? `${n}x${names[l]}` : "")).filter((s) => s);
  if (holes) parts.push(`${holes} unmapped`);
  return parts.join(" + ") || "none";
}

/**
 * The xl toolstack path of the seed man page (never merged upstream; modelled on the 2019 libxl
 * series, FORK19, without its known bugs): a running host with Dom0 and xenstore, on which xl
 * config files create and destroy domains. In xl the owner's region is a sub-range of its own RAM;
 * each borrower page takes one reference on the owner's page when mapped (4 KiB foreign entries,
 * as XENMAPSPACE_gmfn_foreign maps page by page) and drops it when unmapped; the toolstack keeps
 * /libxl/static_shm/<id> in xenstore with a usercnt.
 *
 * A create that fails leaves the host exactly as it was: the half-built domain is destroyed and its
 * xenstore records removed (libxl's 2019 code left the records behind until destroy).
 *
 * The host is either sshm's own (a hypervisor with Dom0 only) or a booted dom0less system with a
 * Dom0 (XlHost.onSystem): Xen boots the host device tree's domains first, then xl in Dom0 creates
 * more on the same hypervisor, their domids following the boot-time ones (domain_create takes the
 * next free id).
 */

import { fmtPaddr } from "../common/format.js";
import { type DomId, SshmError } from "../common/index.js";
import { INVALID_MFN, p2m_map_foreign_rw, p2m_ram_rw } from "../p2m/index.js";
import type { RamBank } from "../pagealloc/index.js";
import {
  forkOwnerDomidReadback,
  SSHM_ROOT,
  sshmBorrowerAdd,
  sshmDel,
  sshmOwnerAdd,
  sshmRole,
  XenStore,
} from "../xenstore/index.js";
import { formatLoc, loadXlDomain, type SshmSpec, type XlDomainConfig } from "../xl/index.js";
import type { Domain } from "./domain.js";
import { Hypervisor } from "./hypervisor.js";
import type { RegionRecord } from "./region.js";
import type { BootReport, ReportWarning } from "./report.js";
import { System } from "./system.js";

export interface XlHostOptions {
  /** Host RAM (default one bank of 4 GiB at 0x40000000). */
  readonly ram?: readonly RamBank[];
  /** Dom0's memory (default 256 MiB). */
  readonly dom0Mem?: number;
  readonly ipaBits?: number;
  readonly fixL1ForeignLeak?: boolean;
}

export class XlHost {
  readonly hv: Hypervisor;
  readonly xs = new XenStore();
  readonly system: System;
  private readonly regions: Map<string, RegionRecord>;
  private readonly warnings: ReportWarning[];
  private nextDomid = 1;
  /** Per domain, the specs it was created with (for destroy). */
  private readonly specs = new Map<DomId, readonly SshmSpec[]>();

  /**
   * xl on a booted dom0less host: its hypervisor, regions and warnings carry on. xl runs in Dom0,
   * so the host device tree must have booted one; SshmError otherwise.
   */
  static onSystem(booted: System): XlHost {
    return new XlHost({}, booted);
  }

  constructor(opts: XlHostOptions = {}, booted?: System) {
    if (booted) {
      const dom0 = booted.hv.domain(0);
      if (dom0?.state !== "running")
        throw new SshmError(
          "EXL_NO_DOM0",
          `${booted.source}: xl runs in Dom0, and this host device tree boots no Dom0 (no multiboot,kernel module directly under /chosen): give the xl configs alone, or a host tree with a Dom0`,
        );
      this.hv = booted.hv;
      this.regions = booted.regions;
      this.warnings = booted.warnings;
      this.nextDomid = Math.max(...booted.hv.domains.map((d) => d.domid)) + 1;
      this.xs.write("/local/domain/0/name", dom0.name);
      this.xs.write("/local/domain/0/domid", "0");
      this.system = new System({
        hv: this.hv,
        kind: "xl",
        source: booted.source,
        regions: this.regions,
        warnings: this.warnings,
      });
      if (booted.hostTree) this.system.hostTree = booted.hostTree;
      this.system.xenstoreOf = () => this.xenstoreLines();
      return;
    }
    this.regions = new Map<string, RegionRecord>();
    this.warnings = [];
    this.hv = new Hypervisor(opts.ram ?? [{ base: 0x4000_0000, size: 4 * 2 ** 30 }], {
      ...(opts.ipaBits === undefined ? {} : { ipaBits: opts.ipaBits }),
      ...(opts.fixL1ForeignLeak === undefined ? {} : { fixL1ForeignLeak: opts.fixL1ForeignLeak }),
    });
    const mem = opts.dom0Mem ?? 256 * 2 ** 20;
    const dom0 = this.hv.createDomain({
      domid: 0,
      name: "Domain-0",
      maxPages: mem / 4096,
      directMap: true,
      source: "dom0",
    });
    this.hv.allocateRam11(dom0, mem);
    this.xs.write("/local/domain/0/name", "Domain-0");
    this.xs.write("/local/domain/0/domid", "0");
    this.system = new System({
      hv: this.hv,
      kind: "xl",
      source: "xl",
      regions: this.regions,
      warnings: this.warnings,
    });
    this.system.xenstoreOf = () => this.xenstoreLines();
  }

  /** `xenstore-ls -f` of the static_shm records and the domains' roles. */
  xenstoreLines(): string[] {
    return this.xs
      .xenstoreLs("/")
      .split("\n")
      .filter((l) => l.length > 0);
  }

  /** `xl create FILE`: returns the new domain, or throws an SshmError leaving the host unchanged. */
  createDomain(text: string, file: string): Domain {
    const cfg = loadXlDomain(text, file);
    for (const w of cfg.warnings)
      this.warnings.push({ code: "XL", node: formatLoc(w.loc), message: w.message });
    if (this.hv.domainByName(cfg.name))
      throw new SshmError(
        "EXL_NAME",
        `${file}: domain "${cfg.name}" already exists (xl refuses a second domain with the same name)`,
      );
    this.checkSpecs(cfg);
    const domid = this.nextDomid++;
    const d = this.hv.createDomain({
      domid,
      name: cfg.name,
      maxPages: (Math.max(cfg.maxmemMiB, cfg.memoryMiB) * 2 ** 20) / 4096,
      directMap: false,
      source: file,
    });
    this.specs.set(domid, cfg.staticShm);
    this.xs.write(`/local/domain/${domid}/name`, cfg.name);
    this.xs.write(`/local/domain/${domid}/domid`, String(domid));
    try {
      const left = this.hv.allocateGuestRam(d, cfg.memoryMiB * 2 ** 20);
      if (left > 0)
        throw new SshmError(
          "EXL_NOMEM",
          `${file}: cannot allocate ${cfg.memoryMiB} MiB for ${cfg.name}: ${left / 2 ** 20} MiB short`,
        );
      for (const s of cfg.staticShm) {
        if (s.role === "owner") this.addOwner(d, s);
        else this.addBorrower(d, s);
      }
    } catch (e) {
      this.teardown(d);
      throw e;
    }
    return d;
  }

  /** Rules that need no allocation: checked before anything is built. */
  private checkSpecs(cfg: XlDomainConfig): void {
    const at = (s: SshmSpec) => `${formatLoc(s.loc)}: static_shm[${s.index}] id=${s.id}`;
    const inRam = (b: number, e: number) => cfg.ramBanks.some((r) => b >= r.base && e <= r.base + r.size);
    const ramText = cfg.ramBanks.map((r) => `[${fmtPaddr(r.base)}, ${fmtPaddr(r.base + r.size)})`).join(" ");
    for (const s of cfg.staticShm) {
      if (s.role === "owner") {
        if (!inRam(s.begin, s.end))
          throw new SshmError(
            "EXL_OWNER_RANGE",
            `${at(s)}: the owner's region [${fmtPaddr(s.begin)}, ${fmtPaddr(s.end)}) is not inside ${cfg.name}'s RAM ${ramText}; in xl the owner shares part of its own memory (libxl would only fail later, when a borrower maps it: "can't map at address")`,
          );
        if (!this.xs.exists(`${SSHM_ROOT}/${s.id}`) && this.regions.has(s.id))
          throw new SshmError(
            "EXL_ID_DOM0LESS",
            `${at(s)}: id "${s.id}" is also a static shm region of the host device tree (${this.regions.get(s.id)!.source}); Xen and libxl keep the two apart, sshm names regions by id and cannot: use another id`,
          );
        if (this.xs.exists(`${SSHM_ROOT}/${s.id}`)) {
          const owner = this.xs.read(`${SSHM_ROOT}/${s.id}/owner`);
          throw new SshmError(
            "ESSHM_SECOND_OWNER",
            `${at(s)}: can only have one owner. (d${owner} owns "${s.id}")`,
          );
        }
        continue;
      }
      const rec = `${SSHM_ROOT}/${s.id}`;
      if (!this.xs.exists(rec))
        throw new SshmError(
          "ESSHM_NO_OWNER",
          this.regions.has(s.id)
            ? `${at(s)}: no owner found. (id "${s.id}" is a static shm region of the host device tree, ${this.regions.get(s.id)!.source}; libxl looks for owners in xenstore only, where boot-time regions are not)`
            : `${at(s)}: no owner found. (create the owner of "${s.id}" before its borrowers)`,
        );
      const ownerSize = Number(this.xs.read(`${rec}/size`));
      const pages = s.size / 4096;
      const ownerPages = ownerSize / 4096;
      const off = s.offset / 4096;
      if (off >= ownerPages || ownerPages - off < pages)
        throw new SshmError(
          "ESSHM_EXCEEDS",
          `${at(s)}: exceeds owner's address space. (offset ${fmtPaddr(s.offset)} + size ${fmtPaddr(s.size)} > owner's size ${fmtPaddr(ownerSize)})`,
        );
      const ownerProt = this.xs.read(`${rec}/prot`);
      if (ownerProt !== "rw")
        throw new SshmError(
          "ESSHM_PROT",
          `${at(s)}: borrower is asking too much permission. (owner grants "${ownerProt}")`,
        );
      for (const r of cfg.ramBanks)
        if (s.begin < r.base + r.size && r.base < s.end)
          throw new SshmError(
            "EXL_BORROWER_RANGE",
            `${at(s)}: the borrower's region [${fmtPaddr(s.begin)}, ${fmtPaddr(s.end)}) overlaps ${cfg.name}'s RAM [${fmtPaddr(r.base)}, ${fmtPaddr(r.base + r.size)}): a borrower maps shared memory outside its own memory`,
          );
    }
  }

  private addOwner(d: Domain, s: SshmSpec): void {
    sshmOwnerAdd(this.xs, {
      id: s.id,
      ownerDomid: d.domid,
      begin: s.begin,
      size: s.size,
      prot: "rw",
      cachePolicy: "arm_normal",
    });
    // The region is the owner's own RAM: its host frames, chunk by chunk.
    const chunks: { start: number; size: number }[] = [];
    for (let g = s.begin / 4096; g < s.end / 4096; g++) {
      const e = d.p2m.lookup(g);
      const last = chunks[chunks.length - 1];
      if (last && last.start + last.size === e.mfn * 4096) last.size += 4096;
      else chunks.push({ start: e.mfn * 4096, size: 4096 });
    }
    this.regions.set(s.id, {
      id: s.id,
      size: s.size,
      form: "owner-ram",
      chunks,
      nrBorrowers: 0,
      owner: d.domid,
      borrowers: [],
      ownerMapping: { gaddr: s.begin, size: s.size, offset: 0 },
      source: formatLoc(s.loc),
    });
    d.shm.push({
      id: s.id,
      gstart: s.begin,
      size: s.size,
      hstart: chunks[0]!.start,
      role: "owner",
      offset: 0,
      source: formatLoc(s.loc),
    });
    d.guestShm.push({ gaddr: s.begin, size: s.size, id: s.id, offset: 0 });
  }

  private addBorrower(d: Domain, s: SshmSpec): void {
    const at = `${formatLoc(s.loc)}: static_shm[${s.index}] id=${s.id}`;
    let res: ReturnType<typeof sshmBorrowerAdd>;
    try {
      res = sshmBorrowerAdd(this.xs, {
        id: s.id,
        domid: d.domid,
        begin: s.begin,
        size: s.size,
        offset: s.offset,
        prot: "rw",
      });
    } catch (e) {
      if (e instanceof SshmError) throw new SshmError(e.code, `${at}: ${e.message}`);
      throw e;
    }
    const forkRead = forkOwnerDomidReadback(res.ownerRaw);
    if (forkRead !== res.ownerDomid)
      this.warnings.push({
        code: "XL-14",
        node: formatLoc(s.loc),
        message: `${at}: the owner domid is stored as "${res.ownerRaw}" in decimal; the 2017/2019 libxl code reads it back as hex (d${forkRead}) and would map from the wrong domain`,
      });
    const owner = this.hv.domain(res.ownerDomid);
    if (owner?.state !== "running")
      throw new SshmError("ESSHM_NO_OWNER", `${at}: no owner found. (d${res.ownerDomid} is not running)`);
    const f = this.hv.machine.frames;
    const first = (res.ownerBegin + s.offset) / 4096;
    const pages = s.size / 4096;
    for (let i = 0; i < pages; i++) {
      // XENMAPSPACE_gmfn_foreign: get_page_from_gfn on the owner, then a 4 KiB foreign entry.
      const e = owner.p2m.lookup(first + i);
      if (e.mfn === INVALID_MFN || e.type !== p2m_ram_rw || !f.get_page(f.pdx(e.mfn), owner.domid))
        throw new SshmError(
          "ESSHM_MAP",
          `${at}: can't map at address ${fmtPaddr(s.begin + i * 4096)}: owner gfn ${fmtPaddr((first + i) * 4096)} is not RAM of ${owner.name}`,
        );
      const rc = d.p2m.insertMapping(s.begin / 4096 + i, 1, e.mfn, p2m_map_foreign_rw);
      if (rc) {
        f.put_page(f.pdx(e.mfn));
        throw new SshmError(
          "ESSHM_MAP",
          `${at}: can't map at address ${fmtPaddr(s.begin + i * 4096)} (rc = ${rc})`,
        );
      }
    }
    const r = this.regions.get(s.id)!;
    r.nrBorrowers++;
    r.borrowers.push({ domid: d.domid, gaddr: s.begin, size: s.size, offset: s.offset });
    const hstart = owner.p2m.lookup(first).mfn * 4096;
    d.shm.push({
      id: s.id,
      gstart: s.begin,
      size: s.size,
      hstart,
      role: "borrower",
      offset: s.offset,
      source: formatLoc(s.loc),
    });
    d.guestShm.push({ gaddr: s.begin, size: s.size, id: s.id, offset: s.offset });
  }

  /** `xl destroy`: libxl__sshm_del (unmap borrower pages, usercnt--), then the hypervisor's destroy. */
  destroyDomain(nameOrId: string | number): void {
    const d = this.system.domain(nameOrId);
    if (d.domid === 0) throw new SshmError("EXL_DOM0", "Domain-0 cannot be destroyed");
    this.teardown(d);
  }

  private teardown(d: Domain): void {
    for (const s of this.specs.get(d.domid) ?? []) {
      const role = sshmRole(this.xs, s.id, d.domid);
      if (role === undefined) continue;
      if (role === "borrower") {
        // XENMEM_remove_from_physmap page by page: each 4 KiB foreign entry puts its reference.
        d.p2m.removeMapping(s.begin / 4096, s.size / 4096);
        const r = this.regions.get(s.id);
        if (r) {
          r.nrBorrowers--;
          const i = r.borrowers.findIndex((b) => b.domid === d.domid);
          if (i >= 0) r.borrowers.splice(i, 1);
        }
      }
      const del = sshmDel(this.xs, { id: s.id, domid: d.domid });
      if (del.recordRemoved) this.regions.delete(s.id);
    }
    this.xs.rm(`/local/domain/${d.domid}`);
    this.specs.delete(d.domid);
    this.system.destroy(d.domid);
  }

  report(): BootReport {
    return this.system.report();
  }
}

/**
 * `sshm check|boot a.cfg b.cfg ...` for xl: create the domains in the order given on one host.
 * The first failing create stops it; the report says which file and rule.
 */
export function createXlSystem(
  files: readonly { text: string; file: string }[],
  opts: XlHostOptions = {},
  booted?: System,
): { report: BootReport; host: XlHost | null } {
  const host = new XlHost(opts, booted);
  for (const f of files) {
    try {
      host.createDomain(f.text, f.file);
    } catch (e) {
      if (!(e instanceof SshmError)) throw e;
      const syntax = e.code.startsWith("EXL_SYNTAX") || e.code.startsWith("ESSHM_SYNTAX");
      host.hv.log.push(`xl create ${f.file}: ${e.message}`);
      return {
        report: host.system.report({
          verdict: "rejected",
          phase: syntax ? "parse" : "build",
          panic: null,
          failedNode: f.file,
        }),
        host: null,
      };
    }
  }
  return { report: host.report(), host };
}

/**
 * bootDom0less(): what Xen does with a host device tree, in Xen's two phases.
 * 1. The early FDT scan (src/dom0less: process_shm_node and friends) builds the bank table or
 *    panics with "Early FDT parsing failed".
 * 2. Domain construction, in Xen's order: Dom0 first when present, then the /chosen xen,domain
 *    nodes in DT order; in each domain its RAM, then its shm nodes in child order (process_shm).
 *    Any error panics with "Could not set up domain <name> (rc = <rc>)".
 * A failed boot leaves nothing behind: the machine it built is dropped (Xen would have panicked),
 * and the report describes how far it got.
 */
import { fmtPaddr, formatDomain, isSshmError, SshmError } from "../common/index.js";
import { choosePaRange, type PaRangeChoice } from "../cpu/index.js";
import {
  type DomainSpec,
  describeHost,
  type HostDescription,
  lintStaticShm,
  parseStaticShm,
  type ShmParseResult,
  shmNotes,
} from "../dom0less/index.js";
import { type FdtTree, findNode, getProp, loadDeviceTree, propString } from "../fdt/index.js";
import { DOM0LESS_XENSTORE, DOM0LESS_XS_LEGACY, hostPlatform, prepareDtbDomU } from "../guestdt/index.js";
import { type KernelImage, kernelProbe, type ModuleRange } from "../kernel/index.js";
import type { PhysRange } from "../pagealloc/index.js";
import {
  ipaRangeWarnings,
  ipaRejectNote,
  paRangeWarnings,
  SETUP_MM_PANIC,
  setupMmCrash,
  virtPaging,
} from "./address-size.js";
import type { Domain } from "./domain.js";
import {
  DOMAIN_CAPS_XENSTORE,
  type DomUBoot,
  dom0lessFeatures,
  domUDtInput,
  domUModule,
} from "./domu-boot.js";
import {
  bootscrubMode,
  constructDomUKernel,
  type HostImage,
  hostReader,
  placeHostImages,
  scrubDomainRam,
  scrubHostRange,
  type XenBuild,
} from "./domu-load.js";
import { lintGuestMmio } from "./guest-mmio.js";
import { Hypervisor } from "./hypervisor.js";
import type { BootReport, PaRangeReport, ReportWarning } from "./report.js";
import { type StaticBank, setupMmStaticBanks } from "./setup-mm.js";
import { StaticShmBuilder, XenCrash } from "./static-shm.js";
import { System } from "./system.js";

export interface BootOptions {
  /** File name for messages (default "<host dt>"). */
  readonly file?: string;
  /** CONFIG_STATIC_SHM (default true). */
  readonly staticShm?: boolean;
  /**
   * The host CPU's PA range in bits (`--pa-bits`): overrides what the host DT's /cpus nodes say.
   * Xen's IPA size is then min(48, it). Default: from the cpu compatible, else 40.
   */
  readonly paBits?: number;
  /** Every CPU is this core (`--cpu`, a name of the core table in src/cpu). */
  readonly cpu?: string;
  /** Same as paBits (kept for callers that set the p2m's IPA size directly). */
  readonly ipaBits?: number;
  /** Drop 1 GiB foreign blocks' references at teardown (Xen leaks them, bug B4). */
  readonly fixL1ForeignLeak?: boolean;
  /** Dom0's memory when /chosen's xen,xen-bootargs has no dom0_mem= (default 512 MiB). */
  readonly dom0MemDefault?: number;
  /**
   * Files in host RAM before Xen starts (QEMU's `-device loader,file=,addr=`). When given (even
   * empty), Xen's kernel probe runs on the bytes at each kernel module's address, and a domU's
   * kernel, initrd and DTB are placed and copied into its RAM as construct_domain does; a module
   * with nothing loaded reads as zeroes and fails the probe as on real Xen. When absent, kernels
   * are not probed (the report says so).
   */
  readonly hostImages?: readonly HostImage[];
  /** The Xen build modelled: what guest RAM holds before Xen writes it (default "debug"). */
  readonly xenBuild?: XenBuild;
}

export interface BootResult {
  readonly report: BootReport;
  /** The running system, when Xen would have booted. */
  readonly system: System | null;
  /** Xen's early FDT scan: the shm banks registered (up to a parse failure) and the error. */
  readonly parse: ShmParseResult;
}

/** What domain construction returns; bootDom0less adds the parse it started from. */
type Built = Omit<BootResult, "parse">;

/** Boot a host device tree (DTS text, DTB bytes or a parsed tree). */
export function bootDom0less(input: string | Uint8Array | FdtTree, opts: BootOptions = {}): BootResult {
  const file =
    opts.file ?? (typeof input === "object" && "root" in input ? (input.source ?? "<host dt>") : "<host dt>");
  const tree = typeof input === "object" && "root" in input ? input : loadDeviceTree(input, file);
  const parse = parseStaticShm(tree, { staticShm: opts.staticShm ?? true });
  const pa = choosePaRange(tree, {
    ...((opts.paBits ?? opts.ipaBits) !== undefined ? { paBits: (opts.paBits ?? opts.ipaBits)! } : {}),
    ...(opts.cpu === undefined ? {} : { cpu: opts.cpu }),
  });
  let host: HostDescription | undefined;
  let warnings: ReportWarning[] = [];
  try {
    host = describeHost(tree);
    warnings = [...lintStaticShm(host, parse), ...lintGuestMmio(host, parse, hostPlatform(tree).gic)].map(
      (w) => ({ ...w }),
    );
  } catch (e) {
    if (!isSshmError(e) || parse.ok) throw e;
  }
  warnings.push(...pa.warnings);
  if (!parse.ok || !host) {
    const err = parse.error;
    return withNotes(tree, parse, {
      report: emptyReport(file, {
        verdict: "rejected",
        phase: "parse",
        log: parse.log,
        panic: err?.panic ?? null,
        failedNode: err ? withLoc(tree, err.node, parse, err.prop) : null,
        warnings,
        notes: err?.note ? [err.note] : [],
        paRange: virtPaging(pa).report,
      }),
      system: null,
    });
  }
  return withNotes(tree, parse, buildSystem(tree, host, parse, warnings, file, opts, pa));
}

/** Warnings about a node's guest range or size: a heap-form reading of its cells may be the cause. */
const READING_WARNINGS: ReadonlySet<string> = new Set(["B1", "B9", "DIRECT_MAP", "MMIO"]);

/** sshm's notes on the static-shm nodes at fault (shmNotes), after any the boot already made. */
function withNotes(tree: FdtTree, parse: ShmParseResult, built: Built): BootResult {
  const r = built.report;
  // failedNode is "<path> (<file>:<line>:<col>)"; node paths hold no blanks.
  const failed = r.failedNode?.split(" ")[0];
  // The warnings a misread guest address or size can cause; the build failure can be any.
  const byReading = r.warnings.filter((w) => READING_WARNINGS.has(w.code)).map((w) => w.node);
  const notes = shmNotes(tree, parse, [...byReading, ...(failed ? [failed] : [])]);
  if (notes.length === 0) return { ...built, parse };
  return { ...built, report: { ...r, notes: [...r.notes, ...notes] }, parse };
}

/** "path (file:line:col)", or "path property p (file:line:col)" at the property Xen rejected. */
function withLoc(tree: FdtTree, path: string, parse: ShmParseResult, prop?: string): string {
  const node = findNode(tree, path);
  const p = prop !== undefined && node ? getProp(node, prop) : undefined;
  if (p)
    return p.loc
      ? `${path} property ${prop} (${p.loc.file}:${p.loc.line}:${p.loc.column})`
      : `${path} property ${prop}`;
  const n = parse.nodes.find((x) => x.path === path);
  const loc = n?.loc ?? node?.loc;
  return loc ? `${path} (${loc.file}:${loc.line}:${loc.column})` : path;
}

function emptyReport(
  source: string,
  r: {
    verdict: BootReport["verdict"];
    phase: BootReport["phase"];
    log: string[];
    panic: string | null;
    failedNode: string | null;
    warnings: ReportWarning[];
    notes: string[];
    paRange: PaRangeReport;
  },
): BootReport {
  return { source, kind: "dom0less", ...r, domains: [], regions: [], guestDts: [], xenstore: [] };
}

/**
 * Xen's bootscrub= from /chosen xen,xen-bootargs (parse_bootscrub_param): "bootscrub" alone or a
 * true boolean is on, a false boolean off, "idle" (the default) idle. The last one given wins.
 */
export function bootscrubFromBootargs(tree: FdtTree): "on" | "off" | "idle" {
  const chosen = findNode(tree, "/chosen");
  const p = chosen && getProp(chosen, "xen,xen-bootargs");
  const args = (p && propString(p)) ?? "";
  let mode: "on" | "off" | "idle" = "idle";
  for (const a of args.split(/\s+/)) {
    if (a === "bootscrub") mode = "on";
    else if (a === "no-bootscrub") mode = "off";
    else if (a.startsWith("bootscrub=")) {
      const v = a.slice("bootscrub=".length);
      if (["1", "yes", "on", "true", "enable"].includes(v)) mode = "on";
      else if (["0", "no", "off", "false", "disable"].includes(v)) mode = "off";
      else if (v === "idle") mode = "idle";
    }
  }
  return mode;
}

/** dom0_mem=<size>[,max:<size>] from /chosen xen,xen-bootargs, in bytes. */
export function dom0MemFromBootargs(tree: FdtTree): number | undefined {
  const chosen = findNode(tree, "/chosen");
  const p = chosen && getProp(chosen, "xen,xen-bootargs");
  const args = p && propString(p);
  const m = args?.match(/(?:^|\s)dom0_mem=([0-9]+)([kKmMgGtT]?)/);
  if (!m) return undefined;
  const mult = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[
    m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"
  ];
  return Number(m[1]) * mult;
}

function buildSystem(
  tree: FdtTree,
  host: HostDescription,
  parse: ShmParseResult,
  warnings: ReportWarning[],
  file: string,
  opts: BootOptions,
  pa: PaRangeChoice,
): Built {
  // Boot memory: everything the early boot reserves stays out of the heap.
  const reserved: PhysRange[] = [
    ...host.reserved.map((r) => ({ start: r.start, size: r.size })),
    ...host.modules
      .filter((m) => !parse.droppedModules.some((d) => d.path === m.path))
      .map((m) => ({ start: m.start, size: m.size })),
    ...parse.banks.filter((b) => b.start !== null).map((b) => ({ start: b.start!, size: b.size })),
  ];
  // With xen,static-heap, only those ranges feed the heap: everything else is reserved.
  const staticHeap = host.reserved.filter((r) => r.kind === "static-heap");
  const heapReserved = staticHeap.length > 0 ? subtract(host.ramBanks, staticHeap) : reserved;
  const virt = virtPaging(pa);
  // setup_mm runs before the CPUs come up: free RAM above the PA range stops Xen there.
  const crash = setupMmCrash(subtract(host.ramBanks, heapReserved), virt.report, "/memory");
  if (crash)
    return {
      report: emptyReport(file, {
        verdict: "crash",
        phase: "memory",
        // do_unexpected_trap prints the line, then panics with it.
        log: [...parse.log, ...parse.bootLog, SETUP_MM_PANIC, SETUP_MM_PANIC],
        panic: SETUP_MM_PANIC,
        failedNode: null,
        warnings,
        notes: [crash],
        paRange: virt.report,
      }),
      system: null,
    };
  const hv = new Hypervisor(
    host.ramBanks.map((b) => ({ base: b.start, size: b.size })),
    {
      reserved: heapReserved,
      bootscrubIdle: bootscrubFromBootargs(tree) === "idle",
      ipaBits: virt.cfg.ipaBits,
      vmid16: pa.vmid16,
      ...(opts.fixL1ForeignLeak === undefined ? {} : { fixL1ForeignLeak: opts.fixL1ForeignLeak }),
    },
  );
  hv.log.push(...parse.log, ...parse.bootLog);
  const loading = opts.hostImages !== undefined;
  if (opts.hostImages) placeHostImages(hv.machine.mem, host.ramBanks, opts.hostImages);
  // setup_mm(): init_staticmem_pages then init_sharedmem_pages turn every static bank's pages
  // into free|static pages, reading each page_info first; a bank outside RAM ends the boot here.
  const staticBanks: StaticBank[] = [
    ...host.reserved
      .filter((r) => r.kind === "static-mem")
      .map((r) => ({
        start: r.start,
        size: r.size,
        what: "xen,static-mem bank",
        path: r.path,
        loop: "init_staticmem_pages" as const,
      })),
    ...parse.banks
      .filter((b) => b.start !== null)
      .map((b) => ({
        start: b.start!,
        size: b.size,
        what: `host range of id "${b.id}"`,
        path: b.path,
        loop: "init_sharedmem_pages" as const,
      })),
  ];
  const mmCrash = setupMmStaticBanks(staticBanks, hv.frameTable, hv.machine.ram, hv.machine.alloc);
  if (mmCrash) {
    hv.log.push(...mmCrash.log);
    const system = new System({
      hv,
      kind: "dom0less",
      source: file,
      regions: new Map(),
      warnings,
      paRange: virt.report,
    });
    system.hostTree = tree;
    return {
      report: {
        ...system.report({
          verdict: "crash",
          phase: "memory",
          panic: mmCrash.panic,
          failedNode: withLoc(tree, mmCrash.path, parse),
        }),
        domains: [],
        notes: [mmCrash.note],
      },
      system: null,
    };
  }
  // Then start_xen brings up the CPUs and calls setup_virt_paging, before any domain.
  hv.log.push(...pa.log, ...virt.log);

  const builder = new StaticShmBuilder(hv, parse.banks);
  const system = new System({
    hv,
    kind: "dom0less",
    source: file,
    regions: builder.regions,
    warnings,
    paRange: virt.report,
  });
  if (loading) system.xenBuild = opts.xenBuild ?? "debug";
  system.hostTree = tree;
  const order: { spec: DomainSpec; domid: number }[] = [];
  if (host.dom0) order.push({ spec: host.dom0, domid: 0 });
  let nextId = 1;
  for (const d of host.domUs) order.push({ spec: d, domid: nextId++ });
  const platform = hostPlatform(tree);
  const chosen = findNode(tree, "/chosen");
  const xenArgs = chosen && getProp(chosen, "xen,xen-bootargs");
  const scrub = bootscrubMode(xenArgs ? propString(xenArgs) : undefined);
  const isDropped = (path: string) => parse.droppedModules.some((x) => x.path === path);
  const liveOrNone = <T extends { path: string }>(m: T | undefined) =>
    m && !isDropped(m.path) ? m : undefined;
  const moduleRange = (m: { startBig: bigint; sizeBig: bigint } | undefined): ModuleRange | undefined =>
    m ? { start: m.startBig, size: m.sizeBig } : undefined;

  const fail = (verdict: "rejected" | "crash", panic: string, node: string | null): Built => {
    hv.log.push(panic);
    warnings.push(...builder.warnings);
    return { report: system.report({ verdict, phase: "build", panic, failedNode: node }), system: null };
  };

  // set_xs_domain: Dom0 (after construct_dom0), or a domU whose capabilities include
  // DOMAIN_CAPS_XENSTORE (after construct_domU); a second one panics.
  let xsDomid: number | undefined;
  for (const { spec, domid } of order) {
    const panicLine = (rc: number) =>
      spec.isDom0
        ? `Could not set up d0 guest OS (rc = ${rc})`
        : `Could not set up domain ${spec.name} (rc = ${rc})`;
    const memBytes = spec.isDom0
      ? (dom0MemFromBootargs(tree) ?? opts.dom0MemDefault ?? 512 * 2 ** 20)
      : (spec.memoryKiB ?? 0) * 1024;
    const d = hv.createDomain({
      domid,
      name: spec.name,
      maxPages: Math.floor(memBytes / 4096),
      directMap: spec.directMap,
      source: spec.path,
    });
    // construct_domU / construct_dom0: the kernel is probed before any memory is allocated.
    let image: KernelImage | undefined;
    if (loading) {
      const domU = !spec.isDom0;
      hv.log.push(
        domU
          ? `*** LOADING DOMU cpus=${spec.cpus} memory=${spec.memoryKiB ? `0x${spec.memoryKiB.toString(16)}` : "0"}KB ***`
          : "*** LOADING DOMAIN 0 ***",
      );
      const kernel = moduleRange(
        domU ? domUModule(host, spec, "kernel", isDropped) : liveOrNone(spec.kernel),
      );
      const initrd = moduleRange(
        domU ? domUModule(host, spec, "ramdisk", isDropped) : liveOrNone(spec.ramdisk),
      );
      const r = kernelProbe(kernel, initrd, hostReader(hv.machine.mem), `d${domid}`);
      hv.log.push(...r.log);
      if (!r.ok) {
        if (r.rc === null)
          throw new SshmError("EUNMODELLED", r.unmodelled, { node: spec.kernel?.path ?? spec.path });
        return fail("rejected", panicLine(r.rc), spec.kernel?.path ?? spec.path);
      }
      image = r.image;
    }
    const left = allocateRam(hv, d, spec, memBytes);
    if (left > 0)
      return fail(
        "rejected",
        `Failed to allocate requested domain memory. ${left / 1024}KB unallocated. Fix the VMs configurations.`,
        spec.path,
      );
    if (loading)
      scrubDomainRam(d, hv.machine.mem, opts.xenBuild ?? "debug", scrub, spec.staticMem.length > 0);
    const nodes = parse.nodes.filter((n) => n.mappedBy === spec.path);
    // Where Xen stopped: the shm node being processed, with its file position.
    const culprit = () => (builder.current ? withLoc(tree, builder.current.path, parse) : spec.path);
    let rc: number;
    try {
      rc = builder.process_shm(d, nodes, parse.banks);
    } catch (e) {
      if (e instanceof XenCrash) return fail("crash", e.message, culprit());
      throw e;
    }
    if (rc) {
      const note = ipaRejectNote(d, builder.current?.path ?? spec.path, virt.report);
      if (note) system.notes.push(note);
      return fail("rejected", panicLine(rc), culprit());
    }
    // An owner's heap-form region came from the boot heap too: scrubbed when allocated.
    if (loading)
      for (const m of d.shm)
        if (m.role === "owner" && builder.regions.get(m.id)?.form === "heap")
          scrubHostRange(hv.machine.mem, m.hstart, m.size, opts.xenBuild ?? "debug", scrub);
    // A dom0less domU (not the hardware domain, built by construct_hwdom from the host tree):
    // init_vuart, then prepare_dtb_domU.
    if (!spec.isDom0 && !spec.isHwdom) {
      const input = domUDtInput(tree, host, spec, d.ramBanks(), d.guestShm, platform, {
        ipaBits: hv.ipaBits,
        // Without the kernel's bytes there is no probe: the domain is taken to be 64-bit.
        is64: image?.is64 ?? true,
        initrd: domUModule(host, spec, "ramdisk", isDropped),
      });
      const dt = prepareDtbDomU(input, `d${domid}`);
      hv.log.push(...dt.log);
      if (!dt.ok) return fail("rejected", panicLine(dt.rc), spec.path);
      let kernel: DomUBoot["kernel"];
      if (image) {
        // construct_domain: kernel_load, initrd_load (patches the DTB), dtb_load, the vCPUs.
        const initrd = moduleRange(domUModule(host, spec, "ramdisk", isDropped));
        const c = constructDomUKernel(d, hv.machine.mem, image, initrd, dt, spec.cpus, hv.log);
        if (!c.ok) return fail("rejected", c.panic, spec.kernel?.path ?? spec.path);
        kernel = c.kernel;
      }
      d.domUBoot = { dtb: dt.dtb, tree: dt.tree, input, kernel };
    }
    if (spec.isDom0 || spec.capabilities & DOMAIN_CAPS_XENSTORE) {
      if (xsDomid !== undefined)
        return fail("rejected", `Only 1 xenstore domain can be specified! (${xsDomid})`, spec.path);
      xsDomid = domid;
    }
  }
  // create_domUs: xen,enhanced "enabled" or "legacy" asked for xenstore, but nobody provides it.
  const wantsXs = host.domUs.find((s) => dom0lessFeatures(s) & (DOM0LESS_XENSTORE | DOM0LESS_XS_LEGACY));
  if (wantsXs && xsDomid === undefined)
    return fail("rejected", "xenstore requested, but xenstore domain not present", wantsXs.path);
  warnings.push(...builder.warnings);
  warnings.push(...ipaRangeWarnings(hv), ...paRangeWarnings(hv));
  warnings.push(...duplicateMappingLeaks(hv));
  for (const r of builder.regions.values()) {
    // One B5 per id: the lint already said it when the id has only borrower nodes (its node is
    // the region's first node too); this one covers the rest (e.g. an owner node Xen never builds).
    if (r.owner === undefined && !warnings.some((w) => w.code === "B5" && w.node === r.source))
      warnings.push({
        code: "B5",
        node: r.source,
        message: `region "${r.id}" has no owner after boot: its pages hold no references, borrowers map them anyway, and destroying a borrower underflows the page counts`,
      });
  }
  return { report: system.report(), system };
}

/** RAM of a domain as Xen allocates it (heap, or static memory, direct-mapped or not). */
function allocateRam(hv: Hypervisor, d: Domain, spec: DomainSpec, memBytes: number): number {
  if (spec.staticMem.length > 0) {
    let g = 0x4000_0000;
    for (const b of spec.staticMem) {
      const rc = hv.machine.alloc.acquire_domstatic_pages(d.pages, b.start / 4096, b.size / 4096);
      if (rc)
        throw new SshmError(
          "ESTATIC_MEM",
          `${formatDomain(d.domid)}: xen,static-mem bank [${fmtPaddr(b.start)}, ${fmtPaddr(b.start + b.size)}) cannot be acquired (rc = ${rc}): every page of a static-mem bank must be RAM reserved at boot and not used by anything else`,
          {
            node: spec.node.loc
              ? `${spec.path} (${spec.node.loc.file}:${spec.node.loc.line}:${spec.node.loc.column})`
              : spec.path,
            key: "xen,static-mem",
          },
        );
      const gbase = spec.directMap ? b.start : g;
      d.p2m.guest_physmap_add_pages(gbase / 4096, b.start / 4096, b.size / 4096);
      d.ram.push({ gstart: gbase, size: b.size, hstart: b.start });
      g += b.size;
    }
    return 0;
  }
  return spec.directMap ? hv.allocateRam11(d, memBytes) : hv.allocateGuestRam(d, memBytes);
}

/** RAM banks minus the given ranges. */
function subtract(
  banks: readonly { start: number; size: number }[],
  keep: readonly { start: number; size: number }[],
): PhysRange[] {
  const out: PhysRange[] = [];
  for (const b of banks) {
    let s = b.start;
    const e = b.start + b.size;
    for (const k of [...keep].sort((x, y) => x.start - y.start)) {
      if (k.start + k.size <= s || k.start >= e) continue;
      if (k.start > s) out.push({ start: s, size: k.start - s });
      s = Math.max(s, k.start + k.size);
    }
    if (s < e) out.push({ start: s, size: e - s });
  }
  return out;
}

/**
 * A borrower mapping replaced by a later mapping of the same host pages in the same domain (another
 * node of the same id at an overlapping guest address, borrower or owner): Xen counted the borrower
 * in nr_shm_borrowers, but p2m_set_entry frees nothing when the MFN does not change, so that
 * borrower's pre-taken reference per page is never dropped and the region can never be freed.
 */
function duplicateMappingLeaks(hv: Hypervisor): ReportWarning[] {
  const out: ReportWarning[] = [];
  for (const d of hv.domains) {
    const b = d.shm;
    for (let j = 1; j < b.length; j++) {
      for (let i = 0; i < j; i++) {
        const x = b[i]!;
        const y = b[j]!;
        if (x.role === "owner") continue;
        const sameFrames = y.hstart - x.hstart === y.gstart - x.gstart;
        if (x.id !== y.id || !sameFrames || y.gstart >= x.gstart + x.size || x.gstart >= y.gstart + y.size)
          continue;
        out.push({
          code: "B9",
          node: y.source,
          message: `${y.source} maps the pages of "${y.id}" again over ${x.source} in ${d.name}: Xen counted both nodes as borrowers but keeps one mapping, so one reference per page is never dropped and the region can never be freed`,
        });
      }
    }
  }
  return out;
}

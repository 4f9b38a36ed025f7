/**
 * Warnings for static-shm configurations that Xen's boot-time parse accepts but that go wrong
 * later (reference §8.3): the parse has all the facts, so we can say so before any domain is built.
 */
import {
  GUEST_RAM0_BASE as RAM0_BASE,
  GUEST_RAM0_SIZE as RAM0_SIZE,
  GUEST_RAM1_BASE as RAM1_BASE,
  GUEST_RAM1_SIZE as RAM1_SIZE,
} from "../common/addr.js";
import { fmtPaddr } from "../common/format.js";
import { lintPropNames } from "./lint-props.js";
import { lintSharing } from "./lint-sharing.js";
import { addU64 } from "./raw.js";
import { NR_SHMEM_BANKS } from "./shm-parse.js";
import type {
  DomainSpec,
  HostDescription,
  ParsedShmNode,
  ShmBank,
  ShmParseResult,
  Warning,
} from "./types.js";

/** xen/include/public/arch-arm.h guest RAM layout. */
export const GUEST_RAM0_BASE = BigInt(RAM0_BASE);
export const GUEST_RAM0_SIZE = BigInt(RAM0_SIZE);
export const GUEST_RAM1_BASE = BigInt(RAM1_BASE);
export const GUEST_RAM1_SIZE = BigInt(RAM1_SIZE);
const GIB = 1n << 30n;

interface Span {
  start: bigint;
  end: bigint;
}

const overlaps = (a: Span, b: Span): boolean => a.start < b.end && b.start < a.end;
const hx = (v: bigint): string => fmtPaddr(v);

function domainOf(host: HostDescription, path: string | undefined): DomainSpec | undefined {
  if (path === undefined) return undefined;
  if (host.dom0 && host.dom0.path === path) return host.dom0;
  return host.domUs.find((d) => d.path === path);
}

/** Guest RAM of a domain as Xen lays it out, when it is known at this phase. */
function guestRam(d: DomainSpec): Span[] | undefined {
  if (d.directMap) {
    // 1:1 domains: RAM sits at its host address; known only for static-mem domains.
    if (d.staticMem.length === 0) return undefined;
    return d.staticMem.map((r) => ({ start: r.startBig, end: r.startBig + r.sizeBig }));
  }
  if (d.memoryKiB === undefined) return undefined;
  const mem = BigInt(d.memoryKiB) * 1024n;
  const r0 = mem < GUEST_RAM0_SIZE ? mem : GUEST_RAM0_SIZE;
  const out: Span[] = [{ start: GUEST_RAM0_BASE, end: GUEST_RAM0_BASE + r0 }];
  if (mem > r0) out.push({ start: GUEST_RAM1_BASE, end: GUEST_RAM1_BASE + (mem - r0) });
  return out;
}

/** First address of [start, end) not covered by RAM banks, or undefined if all covered. */
function firstOutsideRam(host: HostDescription, start: bigint, end: bigint): bigint | undefined {
  const banks = host.ramBanks
    .map((b) => ({ start: b.startBig, end: b.startBig + b.sizeBig }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let cur = start;
  while (cur < end) {
    const b = banks.find((x) => x.start <= cur && cur < x.end);
    if (!b) return cur;
    cur = b.end;
  }
  return undefined;
}

function roleText(n: ParsedShmNode): string {
  return n.role === undefined ? "no role (borrower, owner dom_io)" : `role "${n.role}"`;
}

/** Lint the parsed static-shm configuration. */
export function lintStaticShm(host: HostDescription, parse: ShmParseResult): Warning[] {
  const out: Warning[] = [];
  const warn = (code: Warning["code"], node: string, message: string): void => {
    out.push({ code, node, message });
  };
  const bankOf = (n: ParsedShmNode): ShmBank | undefined => parse.banks[n.bankIndex];
  const mapped = parse.nodes.filter((n) => n.mappedBy !== undefined);
  const domName = (n: ParsedShmNode): string => domainOf(host, n.mappedBy)?.name ?? String(n.mappedBy);

  for (const n of parse.nodes) {
    const bank = bankOf(n);
    if (!bank) continue;

    // B7: strnlen("") = 0 passes the parse; process_shm BUG_ON(strlen(shm_id) <= 0).
    if (n.id === "")
      warn(
        "B7",
        n.path,
        n.mappedBy !== undefined
          ? `node ${n.path} has an empty xen,shm-id: Xen's parse accepts it, but building ${domName(n)} hits BUG_ON(strlen(shm_id) <= 0) in process_shm (hypervisor crash)`
          : `node ${n.path} has an empty xen,shm-id: accepted by the parse (and never mapped), but any domain mapping it would crash Xen (BUG_ON in process_shm)`,
      );

    // B1: a heap-form node reusing a host-form bank (same id, same size).
    if (n.form === "heap" && bank.startBig !== null) {
      const g = n.buildGuestAddrBig;
      const gText =
        g === null
          ? "bytes past the end of the property (undefined)"
          : `${hx(g)} (cells [${n.ac}..${2 * n.ac}) of its own property${n.ac === n.sc ? ", i.e. its size" : ""})`;
      warn(
        "B1",
        n.path,
        `node ${n.path} omits the host address of id "${n.id}", whose region ${bank.path} defined with host address ${hx(bank.startBig)}; Xen reuses that bank (sizes match) and, because the bank has a host address, reads this node's guest address as ${gText} instead of ${hx(n.guestAddrBig)}` +
          (n.mappedBy !== undefined
            ? `: ${domName(n)} gets the region mapped at the wrong guest address`
            : " (the node is never mapped)"),
      );
    }

    // B6: parsed (reserves memory, counts a borrower) but never mapped.
    if (n.mappedBy === undefined) {
      const info = host.shmNodes.find((s) => s.path === n.path);
      const why = info?.unmappedReason ?? "no domain maps it";
      warn(
        "B6",
        n.path,
        n.role === "owner"
          ? `node ${n.path} (id "${n.id}", role "owner") is parsed but never mapped because ${why}: no domain becomes the owner through it`
          : `node ${n.path} (id "${n.id}", ${roleText(n)}) is parsed but never mapped because ${why}: it still counts in nr_shm_borrowers (now ${bank.nrBorrowers}), so the owner takes a reference per page that is never dropped and the region is never freed`,
      );
    }
  }

  // Per id, over the nodes that are actually mapped.
  for (const bank of parse.banks) {
    const users = mapped.filter((n) => n.bankIndex === bank.index);
    const first = users[0];
    if (!first) continue;
    const owners = users.filter((n) => n.role === "owner");
    const roleless = users.filter((n) => n.role === undefined);
    const borrowers = users.filter((n) => n.role === "borrower");

    // B5: nobody ever assigns the pages.
    if (owners.length === 0 && roleless.length === 0 && borrowers.length > 0)
      warn(
        "B5",
        first.path,
        `id "${bank.id}" has only role "borrower" nodes (${borrowers.map((n) => n.path).join(", ")}) and no owner nor role-less node: no domain ever owns the pages, borrowers map them without references and teardown underflows the page count`,
      );

    // B2: several owners, or an explicit owner plus role-less nodes (which make dom_io the owner).
    const failing =
      bank.startBig !== null
        ? "acquiring its pages fails and Xen panics"
        : "assign_pages on already-owned heap pages (debug ASSERT; undefined in release builds)";
    if (owners.length > 1) {
      const second = owners[1];
      if (second)
        warn(
          "B2",
          second.path,
          `id "${bank.id}" has ${owners.length} owners (${owners.map((n) => n.path).join(", ")}): when the second one is built, ${failing}`,
        );
    } else if (owners.length === 1 && roleless.length > 0) {
      const o = owners[0];
      if (o)
        warn(
          "B2",
          o.path,
          `id "${bank.id}" has an explicit owner (${o.path}) and role-less nodes (${roleless.map((n) => n.path).join(", ")}) that make dom_io the owner: whichever is built second fails (${failing})`,
        );
    }

    // DT-32: the host range must be RAM (setup_mm reads its page_info; src/domains/setup-mm.ts).
    if (bank.startBig !== null) {
      const bad = firstOutsideRam(host, bank.startBig, bank.startBig + bank.sizeBig);
      if (bad !== undefined)
        warn(
          "NOT_RAM",
          first.path,
          `host range [${hx(bank.startBig)}, ${hx(bank.startBig + bank.sizeBig)}) of id "${bank.id}" is not inside host RAM (first address outside: ${hx(bad)}); the parse accepts it, but setup_mm() reads the struct page_info of each of its pages (init_sharedmem_pages) before any domain is built, and Xen's frame table has entries for RAM's 1 GiB PDX groups only: there Xen takes a data abort, long before process_shm's "invalid physical address" check`,
        );
    }
  }

  // Per domain: guest-address collisions (B9), direct-map rules, 1 GiB blocks (B4), > 32 nodes.
  const domains = [...(host.dom0 ? [host.dom0] : []), ...host.domUs];
  for (const d of domains) {
    const mine = mapped.filter((n) => n.mappedBy === d.path);
    if (mine.length > NR_SHMEM_BANKS) {
      const n33 = mine[NR_SHMEM_BANKS];
      if (n33)
        warn(
          "TOO_MANY",
          n33.path,
          `${d.name} maps ${mine.length} static-shm nodes; Xen records at most ${NR_SHMEM_BANKS} per domain, so building it fails with -ENOMEM (-12) at ${n33.path}`,
        );
    }
    const ram = guestRam(d);
    const spans: { n: ParsedShmNode; span: Span }[] = [];
    for (const n of mine) {
      const bank = bankOf(n);
      if (!bank) continue;
      const g = n.buildGuestAddrBig;
      if (d.directMap) {
        if (bank.startBig === null)
          warn(
            "DIRECT_MAP",
            n.path,
            `${d.name} is direct-mapped but ${n.path} gives no host address for id "${bank.id}": building it fails with "host and guest physical address must be supplied for direct-mapped domains" (-EINVAL)`,
          );
        else if (g !== null && g !== bank.startBig)
          warn(
            "DIRECT_MAP",
            n.path,
            `${d.name} is direct-mapped but ${n.path} maps host ${hx(bank.startBig)} at guest ${hx(g)}: building it fails with "${d.isDom0 ? "d0" : d.name}: physical address ${hx(bank.startBig)} and guest address ${hx(g)} are not direct-mapped." (-EINVAL)`,
          );
      }
      if (g === null) continue;
      const span = { start: g, end: addU64(g, bank.sizeBig) };
      const hitRam = ram?.find((r) => overlaps(r, span));
      if (hitRam)
        warn(
          "B9",
          n.path,
          `guest range [${hx(span.start)}, ${hx(span.end)}) of ${n.path} overlaps ${d.name}'s RAM [${hx(hitRam.start)}, ${hx(hitRam.end)}): Xen does not check, the shared mapping silently replaces that RAM`,
        );
      const other = spans.find((s) => overlaps(s.span, span));
      if (other)
        warn(
          "B9",
          n.path,
          `guest range [${hx(span.start)}, ${hx(span.end)}) of ${n.path} overlaps that of ${other.n.path} in ${d.name}: Xen does not check, the later mapping silently replaces the earlier one`,
        );
      spans.push({ n, span });

      // B4: a foreign (borrower) mapping that p2m maps with 1 GiB blocks is never put at teardown.
      if (
        n.role !== "owner" &&
        bank.startBig !== null &&
        g % GIB === 0n &&
        bank.startBig % GIB === 0n &&
        bank.sizeBig % GIB === 0n
      )
        warn(
          "B4",
          n.path,
          `${n.path} maps id "${bank.id}" (host ${hx(bank.startBig)}, guest ${hx(g)}, size ${hx(bank.sizeBig)}, all 1 GiB multiples) into ${d.name} with 1 GiB block entries; Xen drops no reference for 1 GiB foreign blocks at teardown, so the region leaks and is never freed`,
        );
    }
  }

  for (const m of parse.droppedModules) {
    const mod = host.modules.find((x) => x.path === m.path);
    const whose = mod?.owner ?? (mod ? "Dom0" : "the system");
    warn(
      "MODULE",
      m.path,
      `boot module ${m.path}${mod ? ` (${mod.kind})` : ""} overlaps memory reserved earlier and Xen silently ignores it ("${m.message}"); ${whose} will boot without it`,
    );
  }
  out.push(...lintPropNames(host, parse), ...lintSharing(host, parse));
  return out;
}

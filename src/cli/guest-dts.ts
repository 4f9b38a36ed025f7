/**
 * Each guest's device-tree nodes for `boot`. The boot report carries them once the front-ends fill
 * `guestDts`; until then (an empty list for an accepted boot) they are derived here from the
 * report's own mappings with src/guestdt, so `boot` always shows what the guests will see.
 */
import type { BootReport, DomainReport, GuestDtReport } from "../domains/index.js";
import type { FdtTree } from "../fdt/index.js";
import { type GuestDtInput, guestDtToDts, makeDomUDt, makeHwdomDt } from "../guestdt/index.js";

function inputOf(d: DomainReport, kind: BootReport["kind"]): GuestDtInput {
  return {
    ramBanks: d.mappings.filter((m) => m.kind === "ram").map((m) => ({ start: m.gstart, size: m.size })),
    shm: d.mappings
      .filter((m) => m.kind === "shm")
      .map((m) => ({
        gaddr: m.gstart,
        size: m.size,
        id: m.id ?? "",
        // Xen writes xen,offset 0 for every DT-described borrower; xl passes the real offset.
        offset: kind === "xl" ? (m.offset ?? 0) : 0,
      })),
  };
}

export function guestDts(report: BootReport, hostTree: FdtTree | null): GuestDtReport[] {
  if (report.guestDts.length > 0 || report.verdict !== "accepted") return report.guestDts;
  const out: GuestDtReport[] = [];
  for (const d of report.domains) {
    if (d.state !== "running") continue;
    const input = inputOf(d, report.kind);
    if (d.domid === 0) {
      // xl's Domain-0 was not built by xl; a dom0less Dom0 gets Xen's hwdom tree from the host's.
      if (report.kind === "xl" || !hostTree) continue;
      out.push({ domain: d.name, dts: guestDtToDts(makeHwdomDt(hostTree, input)) });
    } else {
      out.push({ domain: d.name, dts: guestDtToDts(makeDomUDt(input)) });
    }
  }
  return out;
}

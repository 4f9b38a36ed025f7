/**
 * The traffic simulator's view of a built system: for each static-shm region, the domains that
 * touch it and where (their guest addresses), plus a way to destroy a domain mid-run. The shared
 * pages are materialised before the machine's memory is handed to worker threads.
 */
import { DOMID_IO } from "../common/index.js";
import type { SimParticipant, SimRegion, SimSystem } from "../sim/types.js";
import type { System } from "./system.js";

export function toSimSystem(system: System): SimSystem {
  const hv = system.hv;
  const regions: SimRegion[] = [];
  for (const r of system.regions.values()) {
    for (const c of r.chunks) hv.machine.mem.touch(c.start, c.size);
    const participants: SimParticipant[] = [];
    const owner = r.owner === undefined ? undefined : hv.domain(r.owner);
    if (owner && owner.state === "running" && r.ownerMapping)
      participants.push({
        domid: owner.domid,
        name: owner.name,
        p2m: owner.p2m.handle(),
        gaddr: r.ownerMapping.gaddr,
        size: r.ownerMapping.size,
        role: "owner",
        offset: 0,
      });
    for (const b of r.borrowers) {
      const d = hv.domain(b.domid);
      if (d?.state !== "running") continue;
      participants.push({
        domid: d.domid,
        name: d.name,
        p2m: d.p2m.handle(),
        gaddr: b.gaddr,
        size: b.size,
        role: "borrower",
        offset: b.offset,
      });
    }
    if (participants.length === 0) continue;
    if (participants[0]!.role === "owner") regions.push({ id: r.id, participants });
    else {
      // No running owner to look through: dom_io (no p2m of its own), nobody (B5) or a dying one.
      const who =
        r.owner === undefined
          ? "nobody"
          : r.owner === DOMID_IO
            ? "dom_io"
            : `${owner?.name ?? `d${r.owner}`} (${owner?.state ?? "destroyed"})`;
      regions.push({ id: r.id, participants, hostFrames: { owner: who, chunks: r.chunks } });
    }
  }
  return {
    machine: hv.machine.share(),
    regions,
    destroyDomain: (domid: number) => system.destroy(domid),
    pageCount: (mfn: number) => hv.pageCount(mfn),
  };
}

/**
 * From a system and a scenario to a run plan: which participants take part and as what, where the
 * shared area and the rings sit in the region, and each guest's own address of every ring (its
 * window's guest address + region offset - window offset), so that each guest reaches the region
 * only through its own mapping.
 */
import { SshmError } from "../common/index.js";
import { MAX_GUESTS, MAX_MSG, MIN_MSG, PAGE, ringBytes, ringHeaderBytes, slotSizeFor } from "./layout.js";
import type { RingSpec } from "./ring.js";
import type { GuestProgram, Program } from "./roles.js";
import type { RingReport, Scenario, SimParticipant, SimRegion, SimSystem } from "./types.js";

export interface PlannedGuest extends GuestProgram {
  readonly participant: SimParticipant;
  /** This guest's address of the shared area. */
  readonly dirBase: number;
}

export interface Plan {
  readonly region: SimRegion;
  /** Region offset of the shared area (directory page). */
  readonly areaOffset: number;
  readonly guests: readonly PlannedGuest[];
  readonly rings: readonly RingSpec[];
  readonly ringReports: readonly RingReport[];
  readonly nonce: number;
}

const DEFAULT_SLOTS = 256;
const PINGPONG_SLOTS = 8;

/** Where the participant's window starts in the region (an owner's window normally at 0). */
function windowOffset(p: SimParticipant): number {
  return p.offset ?? 0;
}

/** This participant's address of region offset `off`. */
export function ipaOf(p: SimParticipant, off: number): number {
  return p.gaddr + (off - windowOffset(p));
}

function bad(msg: string): SshmError {
  return new SshmError("ESIM_SCENARIO", msg);
}

interface RingDraft {
  name: string;
  producer: SimParticipant;
  readers: SimParticipant[];
}

export function planRun(system: SimSystem, sc: Scenario, nonce: number): Plan {
  const region = sc.region === undefined ? system.regions[0] : system.regions.find((r) => r.id === sc.region);
  if (!region)
    throw bad(
      sc.region === undefined ? "the system has no shared memory region" : `no region '${sc.region}'`,
    );
  if (!Number.isInteger(sc.size) || sc.size < MIN_MSG || sc.size > MAX_MSG)
    throw bad(`message size ${sc.size} is outside ${MIN_MSG} … ${MAX_MSG} bytes`);
  const byDom = new Map(region.participants.map((p) => [p.domid, p]));
  const get = (domid: number, what: string): SimParticipant => {
    const p = byDom.get(domid);
    if (!p) throw bad(`${what} d${domid} does not share region '${region.id}'`);
    return p;
  };
  const owner = region.participants.find((p) => p.role === "owner") ?? region.participants[0];
  if (!owner) throw bad(`region '${region.id}' has no participants`);
  const others = (except: SimParticipant): SimParticipant[] =>
    region.participants.filter((p) => p !== except);

  const drafts: RingDraft[] = [];
  const roles = new Map<SimParticipant, { role: string; program: Program }>();
  switch (sc.kind) {
    case "stream": {
      const prod = sc.producer === undefined ? owner : get(sc.producer, "producer");
      const cons = sc.consumer === undefined ? others(prod)[0] : get(sc.consumer, "consumer");
      if (!cons || cons === prod) throw bad("stream needs a consumer other than the producer");
      drafts.push({ name: "stream", producer: prod, readers: [cons] });
      roles.set(prod, { role: "producer", program: "producer" });
      roles.set(cons, { role: "consumer", program: "consumer" });
      break;
    }
    case "pingpong": {
      const a = sc.producer === undefined ? owner : get(sc.producer, "initiator");
      const b = sc.consumer === undefined ? others(a)[0] : get(sc.consumer, "responder");
      if (!b || b === a) throw bad("pingpong needs a responder other than the initiator");
      drafts.push({ name: "request", producer: a, readers: [b] });
      drafts.push({ name: "response", producer: b, readers: [a] });
      roles.set(a, { role: "initiator", program: "initiator" });
      roles.set(b, { role: "responder", program: "responder" });
      break;
    }
    case "fanout": {
      const prod = sc.producer === undefined ? owner : get(sc.producer, "producer");
      const rd = sc.readers === undefined ? others(prod) : sc.readers.map((d) => get(d, "reader"));
      if (rd.length === 0 || rd.includes(prod)) throw bad("fanout needs readers other than the producer");
      drafts.push({ name: "fanout", producer: prod, readers: rd });
      roles.set(prod, { role: "producer", program: "producer" });
      for (const r of rd) roles.set(r, { role: "reader", program: "consumer" });
      break;
    }
    case "many": {
      const cons = sc.consumer === undefined ? owner : get(sc.consumer, "consumer");
      const ps = sc.producers === undefined ? others(cons) : sc.producers.map((d) => get(d, "producer"));
      if (ps.length === 0 || ps.includes(cons)) throw bad("many needs producers other than the consumer");
      for (const p of ps) {
        drafts.push({ name: `from-d${p.domid}`, producer: p, readers: [cons] });
        roles.set(p, { role: "producer", program: "producer" });
      }
      roles.set(cons, { role: "consumer", program: "consumer" });
      break;
    }
  }
  const involved = [...roles.keys()];
  if (involved.length > MAX_GUESTS) throw bad(`at most ${MAX_GUESTS} guests per run`);

  // The shared area: the part of the region every guest of the run can see.
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  for (const p of involved) {
    lo = Math.max(lo, windowOffset(p));
    hi = Math.min(hi, windowOffset(p) + p.size);
  }
  lo = Math.ceil(lo / PAGE) * PAGE;
  const avail = hi - lo - PAGE;
  const slotSize = slotSizeFor(sc.size);
  const maxReaders = Math.max(...drafts.map((d) => d.readers.length));
  const perRing = Math.floor(avail / drafts.length / PAGE) * PAGE;
  const fit = Math.floor((perRing - ringHeaderBytes(maxReaders)) / slotSize);
  const want = sc.slots ?? (sc.kind === "pingpong" ? PINGPONG_SLOTS : DEFAULT_SLOTS);
  const slots = Math.min(want, fit);
  if (!(slots >= 2) || (sc.slots !== undefined && sc.slots > fit))
    throw bad(
      `region '${region.id}': the range every guest sees (${Math.max(0, hi - lo)} bytes at offset 0x${lo.toString(16)}) holds ${Math.max(0, fit)} slots of ${slotSize} bytes per ring for ${drafts.length} ring(s); need ${sc.slots ?? 2}`,
    );

  const index = new Map(involved.map((p, i) => [p, i]));
  const rings: RingSpec[] = [];
  const reports: RingReport[] = [];
  let off = lo + PAGE;
  for (const d of drafts) {
    const hdr = ringHeaderBytes(d.readers.length);
    const bytes = ringBytes(d.readers.length, slotSize, slots);
    rings.push({
      name: d.name,
      slotSize,
      slots,
      hdrBytes: hdr,
      msgBytes: sc.size,
      nonce,
      producer: { domid: d.producer.domid, guest: index.get(d.producer)!, base: ipaOf(d.producer, off) },
      readers: d.readers.map((r) => ({ domid: r.domid, guest: index.get(r)!, base: ipaOf(r, off) })),
    });
    reports.push({
      name: d.name,
      offset: off,
      bytes,
      slotSize,
      slots,
      producer: d.producer.domid,
      readers: d.readers.map((r) => r.domid),
    });
    off += bytes;
  }
  const guests = involved.map((p, i): PlannedGuest => {
    const r = roles.get(p)!;
    const writes: number[] = [];
    const reads: { ring: number; reader: number }[] = [];
    drafts.forEach((d, k) => {
      if (d.producer === p) writes.push(k);
      const ri = d.readers.indexOf(p);
      if (ri >= 0) reads.push({ ring: k, reader: ri });
    });
    return {
      index: i,
      domid: p.domid,
      name: p.name,
      role: r.role,
      program: r.program,
      writes,
      reads,
      participant: p,
      dirBase: ipaOf(p, lo),
    };
  });
  return { region, areaOffset: lo, guests, rings, ringReports: reports, nonce };
}

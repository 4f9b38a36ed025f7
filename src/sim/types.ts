/**
 * The traffic simulator's public types. `SimSystem` is the small interface the hypervisor
 * (src/domains) implements — and that tests build by hand from a Machine and P2m tables — so the
 * simulator never depends on how domains were created. Everything a result holds is plain data
 * (JSON-serialisable).
 */
import type { P2mHandle } from "../p2m/index.js";
import type { MachineHandle } from "../pagealloc/index.js";

export interface SimParticipant {
  domid: number;
  name: string;
  p2m: P2mHandle;
  /** guest address of this participant's window */
  gaddr: number;
  size: number;
  role: "owner" | "borrower";
  /** for reports: offset of the window in the region */
  offset?: number;
}

export interface SimRegion {
  id: string;
  participants: SimParticipant[];
  /**
   * The region's host frames, for the post-run page counts when no running domain owns it: a
   * region owned by dom_io (Xen's DOMID_IO has no p2m, so its "view" is the frames themselves),
   * by nobody (bug B5) or by a dying domain. Absent when the owner is a participant.
   */
  hostFrames?: { owner: string; chunks: readonly { start: number; size: number }[] };
}

export interface SimSystem {
  machine: MachineHandle;
  regions: SimRegion[];
  /** Called in the main thread to destroy a domain (tear down its p2m mappings etc.). */
  destroyDomain?(domid: number): void;
  /** For the post-run check: frame refcounts by host frame (owner-side view). */
  pageCount?(mfn: number): number;
}

export type ScenarioKind = "stream" | "pingpong" | "fanout" | "many";

/** Destroy a domain while traffic runs: after it handled `afterMessages` messages, or after `afterMs`. */
export interface DestroySpec {
  domid: number;
  afterMessages?: number;
  afterMs?: number;
}

export interface Scenario {
  kind: ScenarioKind;
  /** Region id (default: the first region of the system). */
  region?: string;
  /** Payload bytes per message, 8 … 65536. */
  size: number;
  /** Messages per producer (ping-pong: round trips). Default 10000 unless durationMs is given. */
  count?: number;
  /** Run for this long instead of a fixed count (producers stop, consumers drain). */
  durationMs?: number;
  /** Spin, then sleep on a doorbell word (default true); false = pure polling. */
  doorbell?: boolean;
  /** Slots per ring (default: up to 256, as many as fit). */
  slots?: number;
  /** stream/fanout: the writing domain (default: the owner). */
  producer?: number;
  /** stream/many: the reading domain (stream default: first borrower; many default: the owner). */
  consumer?: number;
  /** fanout: reading domains (default: every participant but the producer). */
  readers?: number[];
  /** many: writing domains (default: every participant but the consumer). */
  producers?: number[];
  /** Destroy a domain mid-run (needs SimSystem.destroyDomain). */
  destroy?: DestroySpec;
  /** Stamp every Nth message for latency (stream/fanout/many; default 64; ping-pong times every round trip). */
  latencyEvery?: number;
}

export interface SimOptions {
  /** Progress bar on stderr (default: when stderr is a TTY; shown only for runs over 1 s). */
  progress?: boolean;
  /** Hard limit for the whole run; then every worker is stopped (default 30 s + durationMs). */
  timeoutMs?: number;
  /** A peer that makes no progress for this long is given up on (default 1000 ms). */
  peerTimeoutMs?: number;
  /** Polls before sleeping on a doorbell (default 2000). */
  spinPolls?: number;
  /** vCPU TLB size, log2 entries (default 12). */
  tlbBits?: number;
  /** Also run the postMessage and raw-SAB baselines with the same payloads (default false). */
  baselines?: boolean;
}

export type GuestStatus = "ok" | "fault" | "stalled" | "stopped" | "error";

export interface FaultReport {
  kind: string;
  level: number;
  /** The faulting guest address (this guest's IPA). */
  ipa: number;
  access: string;
  fsc: number;
  message: string;
}

export interface LatencyStats {
  /** Samples taken (ping-pong: round trips; stream: stamped messages, producer stamp to consumer). */
  samples: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

export interface GuestResult {
  domid: number;
  name: string;
  /** What this vCPU did: producer, consumer, initiator, responder, reader. */
  role: string;
  status: GuestStatus;
  /** Human detail for any status other than ok (and notes such as peers given up on). */
  detail: string;
  /** Messages sent (producers, initiator: requests) or received and verified (consumers). */
  messages: number;
  bytes: number;
  elapsedMs: number;
  msgsPerSec: number;
  bytesPerSec: number;
  latency: LatencyStats | null;
  fault: FaultReport | null;
  /** Domains this guest gave up on (no progress within peerTimeoutMs). */
  gaveUpOn: number[];
  /** The vCPU's TLB counters (VcpuStats); resolved = translation faults Xen fixed up and retried. */
  tlb: { misses: number; faults: number; flushes: number; resolved: number };
  /** Consumers: p99 over 1024-message windows of the time per message (ns); null if too few. */
  p99WindowNs: number | null;
}

export interface RingReport {
  name: string;
  /** Offset of the ring in the region. */
  offset: number;
  bytes: number;
  slotSize: number;
  slots: number;
  producer: number;
  readers: number[];
}

/** Consecutive region pages with the same reference count. */
export interface PageCountRun {
  /** Offset of the first page in the region. */
  offset: number;
  pages: number;
  mfn: number;
  count: number;
}

export interface PageCountView {
  owner: string;
  through: "stage-2" | "host frames";
}

export interface BaselineResult {
  name: string;
  transport: "postMessage" | "sab-ring";
  size: number;
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  bytesPerSec: number;
  /** p99 over 1024-message windows of the time per message (ns); ping-pong: p99 round trip (ns). */
  p99WindowNs: number;
}

export interface SimResult {
  scenario: Scenario;
  region: string;
  ok: boolean;
  /** One line per failure (integrity errors, faults that were not asked for, timeouts). */
  errors: string[];
  guests: GuestResult[];
  rings: RingReport[];
  /** Wall time from the start signal to the last worker finishing. */
  elapsedMs: number;
  destroyed: { domid: number; atMs: number } | null;
  pageCounts: PageCountRun[] | null;
  /**
   * Whose view pageCounts is: the owning domain read through its stage-2, or a region's hostFrames
   * owner ("dom_io", "nobody") read frame by frame. null when not counted.
   */
  pageCountsView: PageCountView | null;
  baselines: BaselineResult[];
}

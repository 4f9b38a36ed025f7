/**
 * What each simulated vCPU runs, on whatever GuestMem it was given (a Vcpu in a run, RawMem for
 * the raw baseline): the start-up phases, then one of four programs. The per-message loops keep to
 * numbers and preallocated typed arrays; clock reads happen only for sampled messages, every 1024
 * messages and in slow paths.
 */
import { isStage2Fault } from "../p2m/index.js";
import {
  abortRun,
  CTL_READY,
  CTL_STOP,
  G_DONE,
  G_PROGRESS,
  guestWord,
  PHASE_ATTACH,
  PHASE_GO,
  waitPhase,
} from "./control.js";
import { LatencyRecorder, quantile } from "./latency.js";
import {
  DIR_GUESTS,
  DIR_MAGIC,
  DIR_MAGIC_OFF,
  DIR_NONCE,
  DIR_RINGS,
  DIR_VERSION,
  LAYOUT_VERSION,
} from "./layout.js";
import {
  IntegrityError,
  type Link,
  RingReader,
  type RingSpec,
  RingWriter,
  W_ABORTED,
  W_CLOSED,
  W_OK,
  W_STALLED,
} from "./ring.js";
import type { FaultReport, GuestStatus, LatencyStats } from "./types.js";

export type Program = "producer" | "consumer" | "initiator" | "responder";

/** One vCPU's part in a run (structured-cloneable). */
export interface GuestProgram {
  readonly index: number;
  readonly domid: number;
  readonly name: string;
  /** Role shown in reports: producer, consumer, reader, initiator, responder. */
  readonly role: string;
  readonly program: Program;
  /** Indices of the rings this guest writes. */
  readonly writes: readonly number[];
  /** Rings this guest reads, with its reader slot in each. */
  readonly reads: readonly { readonly ring: number; readonly reader: number }[];
}

export interface RunParams {
  readonly rings: readonly RingSpec[];
  readonly guests: number;
  readonly nonce: number;
  /** Messages per producer; 0 = until the main thread sets CTL_STOP. */
  readonly count: number;
  readonly latencyEvery: number;
  readonly setupTimeoutMs: number;
}

/** What a guest did; filled in as it goes, so a fault or error still reports the counts so far. */
export interface Tally {
  status: GuestStatus;
  detail: string;
  messages: number;
  bytes: number;
  startMs: number;
  endMs: number;
  latency: LatencyStats | null;
  windowP99Ns: number | null;
  gaveUpOn: number[];
  fault: FaultReport | null;
}

export function newTally(): Tally {
  return {
    status: "ok",
    detail: "",
    messages: 0,
    bytes: 0,
    startMs: 0,
    endMs: 0,
    latency: null,
    windowP99Ns: null,
    gaveUpOn: [],
    fault: null,
  };
}

/** Timestamps every 1024 messages, for the p99 of the time per message over windows. */
class Windows {
  private readonly t = new Float64Array(1 << 14);
  private n = 0;

  mark(now: number): void {
    if (this.n < this.t.length) this.t[this.n++] = now;
  }

  p99Ns(): number | null {
    if (this.n < 2) return null;
    const d = new Float64Array(this.n - 1);
    for (let i = 1; i < this.n; i++) d[i - 1] = ((this.t[i]! - this.t[i - 1]!) * 1e6) / 1024;
    return quantile(d.sort(), 0.99);
  }
}

/**
 * Run one guest from start-up to the end of its program. Faults and errors are caught and reported
 * in the tally (an error before the start signal aborts the whole run, as does any integrity error).
 */
export function runGuest(link: Link, g: GuestProgram, p: RunParams, t: Tally): void {
  const ctl = link.o.ctl;
  let started = false;
  try {
    // Phase init: own doorbell, directory (guest 0), the rings this guest produces.
    link.initOwnDoorbell(g.domid);
    const m = link.mem;
    const dir = link.o.dirBase;
    if (g.index === 0) {
      m.write32(dir + DIR_VERSION, LAYOUT_VERSION);
      m.write32(dir + DIR_NONCE, p.nonce);
      m.write32(dir + DIR_GUESTS, p.guests);
      m.write32(dir + DIR_RINGS, p.rings.length);
      m.write32(dir + DIR_MAGIC_OFF, DIR_MAGIC);
    }
    const writers = g.writes.map((i) => new RingWriter(link, p.rings[i]!));
    for (const w of writers) w.init();
    Atomics.add(ctl, CTL_READY, 1);
    if (!waitPhase(ctl, PHASE_ATTACH, p.setupTimeoutMs)) {
      stopped(t, "run aborted before start");
      return;
    }
    // Phase attach: check the directory and every ring read, through this guest's own mapping.
    const magic = m.read32(dir + DIR_MAGIC_OFF) >>> 0;
    const nonce = m.read32(dir + DIR_NONCE) >>> 0;
    if (magic !== DIR_MAGIC || nonce !== p.nonce >>> 0)
      throw new IntegrityError(
        `d${g.domid}: shared-area directory at IPA 0x${dir.toString(16)} reads magic 0x${magic.toString(16)} nonce 0x${nonce.toString(16)} (expected 0x${DIR_MAGIC.toString(16)}, 0x${(p.nonce >>> 0).toString(16)}) — this window does not alias the others'`,
      );
    const readers = g.reads.map((r) => new RingReader(link, p.rings[r.ring]!, r.reader));
    for (const r of readers) r.attach();
    Atomics.add(ctl, CTL_READY, 1);
    if (!waitPhase(ctl, PHASE_GO, p.setupTimeoutMs)) {
      stopped(t, "run aborted before start");
      return;
    }
    started = true;
    t.startMs = link.now();
    const progress = guestWord(g.index, G_PROGRESS);
    switch (g.program) {
      case "producer":
        produce(link, writers[0]!, p, t, progress);
        break;
      case "consumer":
        if (readers.length === 1) consumeOne(link, readers[0]!, t, progress);
        else consumeMany(link, readers, t, progress);
        break;
      case "initiator":
        initiate(link, writers[0]!, readers[0]!, p, t, progress);
        break;
      case "responder":
        respond(link, readers[0]!, writers[0]!, t, progress);
        break;
    }
    t.bytes = t.messages * (p.rings[0]?.msgBytes ?? 0);
  } catch (e) {
    if (isStage2Fault(e)) {
      t.status = "fault";
      t.fault = {
        kind: e.kind,
        level: e.level,
        ipa: e.ipa,
        access: e.access,
        fsc: e.fsc,
        message: e.message,
      };
      t.detail = `stage-2 ${e.kind} fault at level ${e.level} on ${e.access} to IPA 0x${e.ipa.toString(16)} after ${t.messages} messages`;
    } else {
      t.status = "error";
      t.detail = e instanceof Error ? e.message : String(e);
    }
    if (!started || !isStage2Fault(e)) abortRun(ctl);
    t.bytes = t.messages * (p.rings[0]?.msgBytes ?? 0);
  } finally {
    t.endMs = link.now();
    if (t.startMs === 0) t.startMs = t.endMs;
    Atomics.store(ctl, guestWord(g.index, G_PROGRESS), t.messages);
    Atomics.store(ctl, guestWord(g.index, G_DONE), 1);
  }
}

function stopped(t: Tally, why: string): void {
  t.status = "stopped";
  t.detail = why;
}

function peerDomids(spec: RingSpec, which: "producer" | "readers"): string {
  return which === "producer" ? `d${spec.producer.domid}` : spec.readers.map((r) => `d${r.domid}`).join(", ");
}

function waitFailed(
  t: Tally,
  rc: number,
  spec: RingSpec,
  waitingFor: "producer" | "readers",
  ms: number,
): void {
  if (rc === W_STALLED) {
    t.status = "stalled";
    t.detail = `${waitingFor === "producer" ? "producer" : "reader"} ${peerDomids(spec, waitingFor)} made no progress for ${ms} ms on ring '${spec.name}'; stopped after ${t.messages} messages`;
  } else if (rc === W_ABORTED) stopped(t, `run aborted after ${t.messages} messages`);
}

function produce(link: Link, w: RingWriter, p: RunParams, t: Tally, progress: number): void {
  const ctl = link.o.ctl;
  const count = p.count;
  const every = p.latencyEvery;
  let stampIn = every;
  let seq = 0;
  for (;;) {
    if (count > 0 && seq >= count) break;
    if ((seq & 63) === 0) {
      Atomics.store(ctl, progress, seq);
      if (count === 0 && Atomics.load(ctl, CTL_STOP) !== 0) break;
    }
    link.sync();
    const rc = w.waitSpace();
    if (rc !== W_OK) {
      waitFailed(t, rc, w.spec, "readers", link.o.peerTimeoutMs);
      break;
    }
    seq++;
    let stamp = 0;
    if (--stampIn === 0) {
      stampIn = every;
      stamp = link.now();
    }
    w.write(seq, stamp);
    w.publish();
    t.messages = seq;
  }
  w.close();
  noteGaveUp(t, w.gaveUpOn, "reader");
}

function noteGaveUp(t: Tally, domids: readonly number[], what: string): void {
  if (domids.length === 0) return;
  t.gaveUpOn.push(...domids);
  const note = `gave up on ${what} ${domids.map((d) => `d${d}`).join(", ")} (no progress)`;
  t.detail = t.detail ? `${t.detail}; ${note}` : note;
}

function consumeOne(link: Link, r: RingReader, t: Tally, progress: number): void {
  const ctl = link.o.ctl;
  const lat = new LatencyRecorder();
  const win = new Windows();
  win.mark(link.now());
  let expected = 1;
  for (;;) {
    const rc = r.waitData();
    if (rc === W_CLOSED) break;
    if (rc !== W_OK) {
      waitFailed(t, rc, r.spec, "producer", 2 * link.o.peerTimeoutMs);
      break;
    }
    link.sync();
    r.read(expected);
    const stamp = r.lastStamp;
    r.release();
    if (stamp !== 0) lat.add((link.now() - stamp) * 1000);
    t.messages = expected;
    if ((expected & 63) === 0) {
      Atomics.store(ctl, progress, expected);
      if ((expected & 1023) === 0) win.mark(link.now());
    }
    expected++;
  }
  t.latency = lat.summary();
  t.windowP99Ns = win.p99Ns();
}

function consumeMany(link: Link, rs: RingReader[], t: Tally, progress: number): void {
  const ctl = link.o.ctl;
  const n = rs.length;
  const lat = new LatencyRecorder();
  const win = new Windows();
  win.mark(link.now());
  const expected = new Int32Array(n).fill(1);
  /** 0 = live, 1 = drained, 2 = given up on. */
  const state = new Uint8Array(n);
  let total = 0;
  let spins = 0;
  for (;;) {
    let got = 0;
    for (let k = 0; k < n; k++) {
      const r = rs[k]!;
      if (state[k] !== 0 || !r.poll()) continue;
      link.sync();
      r.read(expected[k]!);
      const stamp = r.lastStamp;
      r.release();
      expected[k]!++;
      if (stamp !== 0) lat.add((link.now() - stamp) * 1000);
      total++;
      got++;
      t.messages = total;
      if ((total & 63) === 0) {
        Atomics.store(ctl, progress, total);
        if ((total & 1023) === 0) win.mark(link.now());
      }
    }
    if (got !== 0) {
      spins = 0;
      continue;
    }
    for (let k = 0; k < n; k++) rs[k]!.publishTail();
    let live = 0;
    for (let k = 0; k < n; k++) {
      if (state[k] !== 0) continue;
      if (rs[k]!.drained()) state[k] = 1;
      else live++;
    }
    if (live === 0) break;
    spins++;
    if (link.doorbell ? spins < link.spinPolls : (spins & 1023) !== 0) continue;
    spins = 0;
    link.sync();
    if (link.aborted()) {
      stopped(t, `run aborted after ${total} messages`);
      break;
    }
    const now = link.now();
    const gave: number[] = [];
    for (let k = 0; k < n; k++) {
      if (state[k] === 0 && rs[k]!.stalled(now)) {
        state[k] = 2;
        gave.push(rs[k]!.spec.producer.domid);
      }
    }
    noteGaveUp(t, gave, "producer");
    if (link.doorbell) {
      const v = link.sleepBegin();
      let any = false;
      for (let k = 0; k < n; k++) if (state[k] === 0 && (rs[k]!.poll() || rs[k]!.drained())) any = true;
      if (!any) link.sleep(v);
      link.sleepEnd();
    }
  }
  t.latency = lat.summary();
  t.windowP99Ns = win.p99Ns();
}

function initiate(link: Link, w: RingWriter, r: RingReader, p: RunParams, t: Tally, progress: number): void {
  const ctl = link.o.ctl;
  const count = p.count;
  const lat = new LatencyRecorder();
  let seq = 0;
  for (;;) {
    if (count > 0 && seq >= count) break;
    if ((seq & 63) === 0) {
      Atomics.store(ctl, progress, seq);
      if (count === 0 && Atomics.load(ctl, CTL_STOP) !== 0) break;
    }
    link.sync();
    let rc = w.waitSpace();
    if (rc !== W_OK) {
      waitFailed(t, rc, w.spec, "readers", link.o.peerTimeoutMs);
      break;
    }
    seq++;
    const t0 = link.now();
    w.write(seq, t0);
    w.publish();
    rc = r.waitData();
    if (rc !== W_OK) {
      // The request went out but no response came: the round trip does not count.
      waitFailed(t, rc === W_CLOSED ? W_STALLED : rc, r.spec, "producer", 2 * link.o.peerTimeoutMs);
      break;
    }
    link.sync();
    r.read(seq);
    r.release();
    lat.add((link.now() - t0) * 1000);
    t.messages = seq;
  }
  w.close();
  t.latency = lat.summary();
}

function respond(link: Link, req: RingReader, resp: RingWriter, t: Tally, progress: number): void {
  const ctl = link.o.ctl;
  let expected = 1;
  for (;;) {
    let rc = req.waitData();
    if (rc === W_CLOSED) break;
    if (rc !== W_OK) {
      waitFailed(t, rc, req.spec, "producer", 2 * link.o.peerTimeoutMs);
      break;
    }
    link.sync();
    req.read(expected);
    const stamp = req.lastStamp;
    req.release();
    rc = resp.waitSpace();
    if (rc !== W_OK) {
      waitFailed(t, rc, resp.spec, "readers", link.o.peerTimeoutMs);
      break;
    }
    resp.write(expected, stamp);
    resp.publish();
    t.messages = expected;
    if ((expected & 63) === 0) Atomics.store(ctl, progress, expected);
    expected++;
  }
  resp.close();
}

/**
 * The SPSC ring (one producer, one or more readers with their own TAIL) and the doorbells, as a
 * guest runs them through its GuestMem. Layout: see layout.ts.
 *
 * Ordering: the payload and message header are written with plain guest stores and published by an
 * Atomics.store of HEAD; a reader Atomics.loads HEAD before touching the slot, so the JS memory
 * model orders the plain accesses (the same holds for TAIL in the other direction). Each side keeps
 * a cached copy of the other's index and re-reads it only when the ring looks empty/full.
 *
 * Waiting: spin `spinPolls` times, then sleep on the guest's own doorbell with the Dekker-style
 * handshake (set SLEEPING, re-check, Atomics.wait with a 10 ms slice); the other side only
 * notifies when it sees SLEEPING. Every slow-path round picks up TLB flushes, the abort flag and
 * peer stalls (no index movement for peerTimeoutMs), so no wait is unbounded.
 */
import { fmtPaddr } from "../common/format.js";
import { CTL_ABORT } from "./control.js";
import type { GuestMem, WordResolver } from "./guest-mem.js";
import {
  DB_COUNT,
  DB_DOMID,
  DB_SLEEPING,
  DIR_DOORBELLS,
  FLAG_STAMPED,
  LAYOUT_VERSION,
  LINE,
  MSG_CSUM,
  MSG_FLAGS,
  MSG_HDR,
  MSG_LEN,
  MSG_SEQ,
  MSG_STAMP,
  READER_DOMID,
  READER_GUEST,
  READER_TAIL,
  RING_CLOSED,
  RING_FINAL,
  RING_HDR_BYTES,
  RING_HEAD,
  RING_MAGIC,
  RING_MAGIC_OFF,
  RING_MSG_BYTES,
  RING_NONCE,
  RING_PRODUCER,
  RING_PRODUCER_GUEST,
  RING_READER0,
  RING_READERS,
  RING_SLOT_SIZE,
  RING_SLOTS,
  RING_VERSION,
} from "./layout.js";
import { checksum, fillPayload, type PayloadShape, payloadShape, putSmall, sumSmall } from "./payload.js";

export const W_OK = 0;
export const W_CLOSED = 1;
export const W_STALLED = 2;
export const W_ABORTED = 3;

/** Payloads up to this size are moved word by word (cheaper than a memcpy call at 64 B). */
const WORD_COPY_MAX = 256;
const SLEEP_SLICE_MS = 10;

/** A message that was lost, duplicated, reordered or corrupted, or a ring that does not check out. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IntegrityError";
  }
}

export interface LinkOptions {
  /** This guest's address of the shared area (directory page). */
  readonly dirBase: number;
  /** This guest's index (its doorbell line). */
  readonly guest: number;
  readonly guests: number;
  readonly doorbell: boolean;
  readonly spinPolls: number;
  readonly peerTimeoutMs: number;
  readonly ctl: Int32Array;
  /** performance.now() + clockOffset = shared monotonic ms. */
  readonly clockOffset: number;
}

interface Resolvable {
  resolveWords(): void;
}

/** A guest's connection to the shared area: its memory, doorbells and the run's control block. */
export class Link {
  readonly mem: GuestMem;
  readonly o: LinkOptions;
  readonly doorbell: boolean;
  readonly spinPolls: number;
  private readonly resolve: WordResolver;
  private readonly dbArr: Int32Array[] = [];
  private readonly dbIdx: Int32Array;
  private readonly endpoints: Resolvable[] = [];
  private seenFlushes: number;

  constructor(mem: GuestMem, resolve: WordResolver, o: LinkOptions) {
    this.mem = mem;
    this.resolve = resolve;
    this.o = o;
    this.doorbell = o.doorbell;
    this.spinPolls = o.spinPolls;
    this.dbIdx = new Int32Array(o.guests);
    this.seenFlushes = mem.stats.flushes;
    this.resolveDoorbells();
  }

  word(addr: number): { arr: Int32Array; index: number } {
    return this.resolve(addr);
  }

  private resolveDoorbells(): void {
    for (let g = 0; g < this.o.guests; g++) {
      const w = this.resolve(this.o.dirBase + DIR_DOORBELLS + LINE * g + DB_COUNT);
      this.dbArr[g] = w.arr;
      this.dbIdx[g] = w.index;
    }
  }

  /** Reset this guest's doorbell line (phase init). */
  initOwnDoorbell(domid: number): void {
    const a = this.o.dirBase + DIR_DOORBELLS + LINE * this.o.guest;
    this.mem.write32(a + DB_COUNT, 0);
    this.mem.write32(a + DB_SLEEPING, 0);
    this.mem.write32(a + DB_DOMID, domid);
  }

  register(e: Resolvable): void {
    this.endpoints.push(e);
  }

  /** Batch boundary: look for a TLB flush; after one, translate every cached word again. */
  sync(): void {
    this.mem.sync();
    if (this.mem.stats.flushes !== this.seenFlushes) {
      this.seenFlushes = this.mem.stats.flushes;
      this.resolveDoorbells();
      for (const e of this.endpoints) e.resolveWords();
    }
  }

  now(): number {
    return performance.now() + this.o.clockOffset;
  }

  aborted(): boolean {
    return Atomics.load(this.o.ctl, CTL_ABORT) !== 0;
  }

  /** Ring guest g's doorbell if it sleeps (the static event channel send). */
  wake(g: number): void {
    const a = this.dbArr[g]!;
    const i = this.dbIdx[g]!;
    if (Atomics.load(a, i + 1) !== 0) {
      Atomics.add(a, i, 1);
      Atomics.notify(a, i);
    }
  }

  /** Announce sleep; returns the doorbell value to wait on. Re-check the condition, then sleep(). */
  sleepBegin(): number {
    const a = this.dbArr[this.o.guest]!;
    const i = this.dbIdx[this.o.guest]!;
    const v = Atomics.load(a, i);
    Atomics.store(a, i + 1, 1);
    return v;
  }

  sleep(v: number): void {
    Atomics.wait(this.dbArr[this.o.guest]!, this.dbIdx[this.o.guest]!, v, SLEEP_SLICE_MS);
  }

  sleepEnd(): void {
    Atomics.store(this.dbArr[this.o.guest]!, this.dbIdx[this.o.guest]! + 1, 0);
  }
}

/** Geometry and identity of one ring, as both ends agree on it. */
export interface RingSpec {
  readonly name: string;
  readonly slotSize: number;
  readonly slots: number;
  readonly hdrBytes: number;
  readonly msgBytes: number;
  readonly nonce: number;
  readonly producer: { readonly domid: number; readonly guest: number; readonly base: number };
  readonly readers: readonly { readonly domid: number; readonly guest: number; readonly base: number }[];
}

abstract class RingEnd implements Resolvable {
  readonly spec: RingSpec;
  protected readonly link: Link;
  protected readonly mem: GuestMem;
  /** This guest's address of the ring. */
  readonly base: number;
  protected readonly shape: PayloadShape;
  protected readonly buf32: Uint32Array;
  protected readonly buf8: Uint8Array;
  protected readonly small: boolean;
  protected readonly f64 = new Float64Array(1);
  protected readonly f64w = new Uint32Array(this.f64.buffer);
  /** Slot index and its address for the next message. */
  protected slot = 0;
  protected slotAddr: number;
  protected headArr: Int32Array = new Int32Array(0);
  protected headIdx = 0;

  constructor(link: Link, spec: RingSpec, base: number) {
    this.link = link;
    this.mem = link.mem;
    this.spec = spec;
    this.base = base;
    this.shape = payloadShape(spec.msgBytes);
    this.buf32 = new Uint32Array(this.shape.words);
    this.buf8 = new Uint8Array(this.buf32.buffer, 0, spec.msgBytes);
    this.small = spec.msgBytes <= WORD_COPY_MAX;
    this.slotAddr = base + spec.hdrBytes;
    link.register(this);
  }

  abstract resolveWords(): void;

  protected advance(): void {
    if (++this.slot === this.spec.slots) {
      this.slot = 0;
      this.slotAddr = this.base + this.spec.hdrBytes;
    } else this.slotAddr += this.spec.slotSize;
  }

  /** Offset of the current slot from the ring base. */
  protected slotOffset(): number {
    return this.spec.hdrBytes + this.slot * this.spec.slotSize;
  }
}

export class RingWriter extends RingEnd {
  private head = 0;
  /** Cached lowest TAIL of the live readers. */
  private minTail = 0;
  private readonly nReaders: number;
  private tailArr: Int32Array[] = [];
  private readonly tailIdx: Int32Array;
  private readonly readerGuest: Int32Array;
  /** 1 = given up on (no progress within peerTimeoutMs). */
  private readonly dead: Uint8Array;
  private readonly lastTail: Int32Array;
  private readonly stallSince: Float64Array;
  private live: number;
  private closedArr: Int32Array = new Int32Array(0);
  private closedIdx = 0;
  private finalIdx = 0;
  readonly gaveUpOn: number[] = [];

  constructor(link: Link, spec: RingSpec) {
    super(link, spec, spec.producer.base);
    const n = spec.readers.length;
    this.nReaders = n;
    this.tailIdx = new Int32Array(n);
    this.readerGuest = new Int32Array(spec.readers.map((r) => r.guest));
    this.dead = new Uint8Array(n);
    this.lastTail = new Int32Array(n);
    this.stallSince = new Float64Array(n).fill(-1);
    this.live = n;
    fillPayload(this.shape, this.buf32, 0, true);
  }

  /** Phase init: write the ring header through this guest's own mapping. */
  init(): void {
    const m = this.mem;
    const b = this.base;
    const s = this.spec;
    m.write32(b + RING_MAGIC_OFF, 0);
    m.write32(b + RING_VERSION, LAYOUT_VERSION);
    m.write32(b + RING_NONCE, s.nonce);
    m.write32(b + RING_HDR_BYTES, s.hdrBytes);
    m.write32(b + RING_SLOT_SIZE, s.slotSize);
    m.write32(b + RING_SLOTS, s.slots);
    m.write32(b + RING_READERS, s.readers.length);
    m.write32(b + RING_MSG_BYTES, s.msgBytes);
    m.write32(b + RING_PRODUCER, s.producer.domid);
    m.write32(b + RING_PRODUCER_GUEST, s.producer.guest);
    m.write32(b + RING_CLOSED, 0);
    m.write32(b + RING_FINAL, 0);
    m.write32(b + RING_HEAD, 0);
    s.readers.forEach((r, i) => {
      const l = b + RING_READER0 + LINE * i;
      m.write32(l + READER_TAIL, 0);
      m.write32(l + READER_DOMID, r.domid);
      m.write32(l + READER_GUEST, r.guest);
    });
    // The magic last: a reader that sees it sees a complete header.
    m.write32(b + RING_MAGIC_OFF, RING_MAGIC);
    this.resolveWords();
  }

  resolveWords(): void {
    const h = this.link.word(this.base + RING_HEAD);
    this.headArr = h.arr;
    this.headIdx = h.index;
    const c = this.link.word(this.base + RING_CLOSED);
    this.closedArr = c.arr;
    this.closedIdx = c.index;
    this.finalIdx = this.link.word(this.base + RING_FINAL).index;
    for (let r = 0; r < this.nReaders; r++) {
      const t = this.link.word(this.base + RING_READER0 + LINE * r + READER_TAIL);
      this.tailArr[r] = t.arr;
      this.tailIdx[r] = t.index;
    }
  }

  get sent(): number {
    return this.head;
  }

  /** Wait until the next slot is free. W_OK, W_STALLED (every reader given up on) or W_ABORTED. */
  waitSpace(): number {
    if (((this.head - this.minTail) | 0) < this.spec.slots) return W_OK;
    return this.waitSpaceSlow();
  }

  private refreshTail(): boolean {
    let min = this.head;
    for (let r = 0; r < this.nReaders; r++) {
      if (this.dead[r] !== 0) continue;
      const t = Atomics.load(this.tailArr[r]!, this.tailIdx[r]!);
      if (((this.head - t) | 0) > ((this.head - min) | 0)) min = t;
    }
    this.minTail = min;
    return ((this.head - min) | 0) < this.spec.slots;
  }

  private waitSpaceSlow(): number {
    const link = this.link;
    let spins = 0;
    this.stallSince.fill(-1);
    for (;;) {
      if (this.refreshTail()) return W_OK;
      spins++;
      if (link.doorbell ? spins < link.spinPolls : (spins & 1023) !== 0) continue;
      spins = 0;
      link.sync();
      if (link.aborted()) return W_ABORTED;
      if (this.checkStalls(link.now()) && this.live === 0) return W_STALLED;
      if (this.refreshTail()) return W_OK;
      if (link.doorbell) {
        const v = link.sleepBegin();
        if (!this.refreshTail()) link.sleep(v);
        link.sleepEnd();
      }
    }
  }

  /** Give up on readers that block the ring and have not moved for peerTimeoutMs. */
  private checkStalls(now: number): boolean {
    let gave = false;
    for (let r = 0; r < this.nReaders; r++) {
      if (this.dead[r] !== 0) continue;
      const t = Atomics.load(this.tailArr[r]!, this.tailIdx[r]!);
      const blocking = ((this.head - t) | 0) >= this.spec.slots;
      if (!blocking || t !== this.lastTail[r] || this.stallSince[r]! < 0) {
        this.lastTail[r] = t;
        this.stallSince[r] = blocking ? now : -1;
        continue;
      }
      if (now - this.stallSince[r]! > this.link.o.peerTimeoutMs) {
        this.dead[r] = 1;
        this.live--;
        this.gaveUpOn.push(this.spec.readers[r]!.domid);
        gave = true;
      }
    }
    return gave;
  }

  /** Write message `seq` into the next slot (call waitSpace first). stamp = 0 for no latency sample. */
  write(seq: number, stamp: number): void {
    const m = this.mem;
    const a = this.slotAddr;
    const shape = this.shape;
    let sum: number;
    if (this.small) sum = putSmall(m, a + MSG_HDR, shape, seq, this.spec.nonce);
    else {
      fillPayload(shape, this.buf32, seq, false);
      sum = checksum(this.buf32, shape.words, this.spec.nonce);
      m.writeBytes(a + MSG_HDR, this.buf8);
    }
    m.write32(a + MSG_SEQ, seq);
    m.write32(a + MSG_LEN, shape.bytes);
    m.write32(a + MSG_CSUM, sum);
    if (stamp === 0) m.write32(a + MSG_FLAGS, 0);
    else {
      m.write32(a + MSG_FLAGS, FLAG_STAMPED);
      this.f64[0] = stamp;
      m.write32(a + MSG_STAMP, this.f64w[0]!);
      m.write32(a + MSG_STAMP + 4, this.f64w[1]!);
    }
  }

  /** Make the written message visible and wake sleeping readers. */
  publish(): void {
    this.head = (this.head + 1) | 0;
    Atomics.store(this.headArr, this.headIdx, this.head);
    this.advance();
    if (this.link.doorbell) for (let r = 0; r < this.nReaders; r++) this.link.wake(this.readerGuest[r]!);
  }

  /** No more messages: FINAL, then CLOSED, then wake every reader. */
  close(): void {
    Atomics.store(this.closedArr, this.finalIdx, this.head);
    Atomics.store(this.closedArr, this.closedIdx, 1);
    for (let r = 0; r < this.nReaders; r++) this.link.wake(this.readerGuest[r]!);
  }
}

export class RingReader extends RingEnd {
  readonly reader: number;
  private tail = 0;
  private cachedHead = 0;
  private tailArr: Int32Array = new Int32Array(0);
  private tailIdx = 0;
  private closedArr: Int32Array = new Int32Array(0);
  private closedIdx = 0;
  private finalIdx = 0;
  private readonly producerGuest: number;
  private readonly batch: number;
  private unpublished = 0;
  /** Stamp of the last message read (0 = not sampled). */
  lastStamp = 0;
  /** Slow-path stall tracking (head value and since when it has not moved). */
  private lastHead = 0;
  stallSince = -1;

  constructor(link: Link, spec: RingSpec, reader: number) {
    super(link, spec, spec.readers[reader]!.base);
    this.reader = reader;
    this.producerGuest = spec.producer.guest;
    this.batch = Math.max(1, Math.floor(spec.slots / 8));
  }

  /** Phase attach: check the header the producer wrote, through this guest's own mapping. */
  attach(): void {
    const m = this.mem;
    const b = this.base;
    const s = this.spec;
    const prod = s.producer.base;
    const where = `ring '${s.name}' header at ${this.who()} IPA ${fmtPaddr(b)} (producer d${s.producer.domid} wrote it at IPA ${fmtPaddr(prod)})`;
    const magic = m.read32(b + RING_MAGIC_OFF) >>> 0;
    if (magic !== RING_MAGIC)
      throw new IntegrityError(
        `${where}: magic 0x${magic.toString(16)} instead of 0x${RING_MAGIC.toString(16)} — this window does not alias the producer's ring`,
      );
    const nonce = m.read32(b + RING_NONCE) >>> 0;
    if (nonce !== s.nonce >>> 0)
      throw new IntegrityError(
        `${where}: run nonce 0x${nonce.toString(16)} instead of 0x${(s.nonce >>> 0).toString(16)} — a ring left by an earlier run, not the producer's`,
      );
    const expect: [number, number, string][] = [
      [RING_VERSION, LAYOUT_VERSION, "version"],
      [RING_HDR_BYTES, s.hdrBytes, "header size"],
      [RING_SLOT_SIZE, s.slotSize, "slot size"],
      [RING_SLOTS, s.slots, "slot count"],
      [RING_READERS, s.readers.length, "reader count"],
      [RING_MSG_BYTES, s.msgBytes, "message size"],
      [RING_PRODUCER, s.producer.domid, "producer domid"],
      [RING_READER0 + LINE * this.reader + READER_DOMID, s.readers[this.reader]!.domid, "reader domid"],
    ];
    for (const [off, want, what] of expect) {
      const got = m.read32(b + off);
      if (got !== want) throw new IntegrityError(`${where}: ${what} ${got}, expected ${want}`);
    }
    this.resolveWords();
    this.tail = Atomics.load(this.tailArr, this.tailIdx);
    this.cachedHead = this.tail;
  }

  private who(): string {
    return `reader d${this.spec.readers[this.reader]!.domid}`;
  }

  resolveWords(): void {
    const h = this.link.word(this.base + RING_HEAD);
    this.headArr = h.arr;
    this.headIdx = h.index;
    const c = this.link.word(this.base + RING_CLOSED);
    this.closedArr = c.arr;
    this.closedIdx = c.index;
    this.finalIdx = this.link.word(this.base + RING_FINAL).index;
    const t = this.link.word(this.base + RING_READER0 + LINE * this.reader + READER_TAIL);
    this.tailArr = t.arr;
    this.tailIdx = t.index;
  }

  get received(): number {
    return this.tail;
  }

  /** Non-blocking: is a message waiting? */
  poll(): boolean {
    if (this.cachedHead !== this.tail) return true;
    this.cachedHead = Atomics.load(this.headArr, this.headIdx);
    return this.cachedHead !== this.tail;
  }

  /** Closed by the producer and every message consumed. */
  drained(): boolean {
    return (
      Atomics.load(this.closedArr, this.closedIdx) !== 0 &&
      Atomics.load(this.closedArr, this.finalIdx) === this.tail &&
      !this.poll()
    );
  }

  /**
   * Slow-path check: true when the producer has not moved HEAD for 2 x peerTimeoutMs. Twice the
   * producer's own patience: a producer held up by a dead reader needs up to peerTimeoutMs to give
   * up on it, and must not be given up on by the live readers meanwhile.
   */
  stalled(now: number): boolean {
    const h = Atomics.load(this.headArr, this.headIdx);
    if (h !== this.lastHead || this.stallSince < 0) {
      this.lastHead = h;
      this.stallSince = now;
      return false;
    }
    return now - this.stallSince > 2 * this.link.o.peerTimeoutMs;
  }

  /** Wait for the next message: W_OK, W_CLOSED (drained), W_STALLED or W_ABORTED. */
  waitData(): number {
    if (this.cachedHead !== this.tail) return W_OK;
    this.cachedHead = Atomics.load(this.headArr, this.headIdx);
    if (this.cachedHead !== this.tail) return W_OK;
    return this.waitDataSlow();
  }

  private waitDataSlow(): number {
    const link = this.link;
    let spins = 0;
    this.publishTail();
    this.stallSince = -1;
    for (;;) {
      if (this.poll()) return W_OK;
      if (this.drained()) return W_CLOSED;
      spins++;
      if (link.doorbell ? spins < link.spinPolls : (spins & 1023) !== 0) continue;
      spins = 0;
      link.sync();
      if (link.aborted()) return W_ABORTED;
      if (this.stalled(link.now())) return W_STALLED;
      if (link.doorbell) {
        const v = link.sleepBegin();
        if (!this.poll() && Atomics.load(this.closedArr, this.closedIdx) === 0) link.sleep(v);
        link.sleepEnd();
      }
    }
  }

  /**
   * Read and verify the next message, which must be number `expected`; throws IntegrityError on
   * the first loss, duplicate, reorder or corruption. The stamp is left in lastStamp.
   */
  read(expected: number): void {
    const m = this.mem;
    const a = this.slotAddr;
    const shape = this.shape;
    const seq = m.read32(a + MSG_SEQ) >>> 0;
    const len = m.read32(a + MSG_LEN);
    const sum = m.read32(a + MSG_CSUM) >>> 0;
    if (seq !== expected || len !== shape.bytes) this.fail(expected, seq, len, "header");
    let got: number;
    if (this.small) got = sumSmall(m, a + MSG_HDR, shape.words, this.spec.nonce);
    else {
      m.readBytes(a + MSG_HDR, this.buf8);
      got = checksum(this.buf32, shape.words, this.spec.nonce);
    }
    if (got !== sum || m.read32(a + MSG_HDR) !== seq) this.fail(expected, seq, len, "payload");
    if ((m.read32(a + MSG_FLAGS) & FLAG_STAMPED) !== 0) {
      this.f64w[0] = m.read32(a + MSG_STAMP);
      this.f64w[1] = m.read32(a + MSG_STAMP + 4);
      this.lastStamp = this.f64[0]!;
    } else this.lastStamp = 0;
  }

  /** Hand the slot back; TAIL is published in batches (and whenever the ring runs empty). */
  release(): void {
    this.tail = (this.tail + 1) | 0;
    this.advance();
    if (++this.unpublished >= this.batch) this.publishTail();
  }

  /** Publish TAIL and wake the producer if it sleeps (it only sleeps on a full ring). */
  publishTail(): void {
    if (this.unpublished === 0) return;
    this.unpublished = 0;
    Atomics.store(this.tailArr, this.tailIdx, this.tail);
    if (this.link.doorbell) this.link.wake(this.producerGuest);
  }

  private fail(expected: number, seq: number, len: number, part: "header" | "payload"): never {
    const s = this.spec;
    const off = this.slotOffset();
    let what: string;
    if (part === "payload")
      what = `corruption: payload checksum or sequence word does not match (sequence ${seq})`;
    else if (len !== s.msgBytes && seq === expected)
      what = `corruption: length ${len}, expected ${s.msgBytes}`;
    else if (seq === 0) what = "loss: the slot was never written at this address (sequence 0)";
    else if (seq > expected) what = `loss: sequence ${seq}, expected ${expected}`;
    else if ((expected - seq) % s.slots === 0)
      what = `loss or reorder: stale slot from an earlier lap (sequence ${seq}, expected ${expected})`;
    else what = `duplicate or reorder: sequence ${seq}, expected ${expected}`;
    throw new IntegrityError(
      `message #${expected} on ring '${s.name}' slot ${this.slot}: ${what}; producer d${s.producer.domid} writes that slot at IPA ${fmtPaddr(s.producer.base + off)}, ${this.who()} read it at IPA ${fmtPaddr(this.base + off)}`,
    );
  }
}

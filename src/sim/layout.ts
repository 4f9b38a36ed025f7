/**
 * Where the simulator puts things inside a static shared memory region. All fields are 32-bit
 * little-endian words; every word that two guests write concurrently sits on its own 64-byte
 * line, as in ivshmem-v2 / Jailhouse (one section writable by one peer) and Linux's circ_buf.
 *
 * Shared area (region offset S = start of the range every participant of the run can see):
 *
 *   S + 0x000  directory line: MAGIC "SHMD", VERSION, NONCE (per run), GUESTS, RINGS
 *   S + 0x040 + 64*g  doorbell line of guest g: DB (counter), SLEEPING (flag), DOMID
 *   S + 0x1000 * k    ring k (page aligned), layout below
 *
 * The doorbell line is each guest's receive doorbell, in place of the Xen static event channel
 * (`xen,evtchn`) a real static-shm system pairs with the region: a sender bumps DB and wakes the
 * guest with Atomics.notify — only when SLEEPING is set, since a wake-up costs ~14 µs against
 * ~0.2 µs for a spinning peer (reference node-baselines §2). A guest has one doorbell for all its
 * rings, like one event channel upcall per vCPU, so a consumer of several rings sleeps in one place.
 *
 * Ring k (RING_* offsets from the ring base):
 *
 *   +0x00  line 0, written once by the producer: MAGIC "SHMR", VERSION, NONCE, HDR_BYTES,
 *          SLOT_SIZE, SLOTS, READERS, MSG_BYTES, PRODUCER (domid), PRODUCER_GUEST (doorbell
 *          index), CLOSED, FINAL (messages sent, valid once CLOSED = 1)
 *   +0x40  line 1: HEAD — messages published (producer index, wraps at 2^32)
 *   +0x80 + 64*r  line of reader r: TAIL[r] (messages this reader consumed), DOMID, GUEST
 *   +HDR_BYTES  SLOTS slots of SLOT_SIZE bytes; message n (1-based) is in slot (n - 1) % SLOTS
 *
 * Fan-out uses one ring with a TAIL per reader (the producer waits for the slowest live reader),
 * so the payload is written once and every reader checks the very same bytes — the ivshmem-v2
 * "output section read by every peer" shape. Many-to-one uses one ring per producer.
 *
 * A message in its slot:
 *   +0x00 SEQ (1-based message number), +0x04 LEN (payload bytes), +0x08 CSUM (payload.ts),
 *   +0x0c FLAGS (bit 0: STAMP valid), +0x10 STAMP (float64, ms on the shared monotonic clock,
 *   written only for latency-sampled messages), +0x18 payload (LEN bytes).
 * SLOT_SIZE = roundup(0x18 + LEN, 64); a 64 KiB message spans 17 pages of its slot.
 *
 * Readers publish TAIL every SLOTS/8 messages and whenever they find the ring empty (the producer
 * only looks at TAIL when the ring looks full, so this never blocks it); the producer publishes
 * HEAD after every message, which is what bounds latency.
 */

export const LINE = 64;
export const PAGE = 4096;

export const DIR_MAGIC = 0x44_4d_48_53; // "SHMD" little-endian
export const RING_MAGIC = 0x52_4d_48_53; // "SHMR"
export const LAYOUT_VERSION = 1;

// Directory.
export const DIR_MAGIC_OFF = 0x00;
export const DIR_VERSION = 0x04;
export const DIR_NONCE = 0x08;
export const DIR_GUESTS = 0x0c;
export const DIR_RINGS = 0x10;
export const DIR_DOORBELLS = 0x40;
export const DB_COUNT = 0x00;
export const DB_SLEEPING = 0x04;
export const DB_DOMID = 0x08;
export const MAX_GUESTS = (PAGE - DIR_DOORBELLS) / LINE;

// Ring header.
export const RING_MAGIC_OFF = 0x00;
export const RING_VERSION = 0x04;
export const RING_NONCE = 0x08;
export const RING_HDR_BYTES = 0x0c;
export const RING_SLOT_SIZE = 0x10;
export const RING_SLOTS = 0x14;
export const RING_READERS = 0x18;
export const RING_MSG_BYTES = 0x1c;
export const RING_PRODUCER = 0x20;
export const RING_PRODUCER_GUEST = 0x24;
export const RING_CLOSED = 0x28;
export const RING_FINAL = 0x2c;
export const RING_HEAD = 0x40;
export const RING_READER0 = 0x80;
export const READER_TAIL = 0x00;
export const READER_DOMID = 0x04;
export const READER_GUEST = 0x08;

// Message header.
export const MSG_SEQ = 0x00;
export const MSG_LEN = 0x04;
export const MSG_CSUM = 0x08;
export const MSG_FLAGS = 0x0c;
export const MSG_STAMP = 0x10;
export const MSG_HDR = 0x18;
export const FLAG_STAMPED = 1;

export const MIN_MSG = 8;
export const MAX_MSG = 65536;

export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export function ringHeaderBytes(readers: number): number {
  return RING_READER0 + LINE * readers;
}

export function slotSizeFor(msgBytes: number): number {
  return roundUp(MSG_HDR + msgBytes, LINE);
}

/** Bytes a ring takes in the region (page aligned). */
export function ringBytes(readers: number, slotSize: number, slots: number): number {
  return roundUp(ringHeaderBytes(readers) + slotSize * slots, PAGE);
}

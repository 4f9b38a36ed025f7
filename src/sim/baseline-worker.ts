/**
 * Worker of the baselines. "sab-ring": the very ring code of a run (roles.ts) on RawMem over a plain
 * SharedArrayBuffer — same payloads, checksums and doorbells, no translation. "postMessage": the same
 * payloads copied by structured clone over a MessagePort, the consumer verifying sequence and
 * checksum, the producer keeping at most 1024 messages in flight (credit returned every 64 through
 * an Atomics word).
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { calibrateClock } from "./clock.js";
import { RawMem } from "./guest-mem.js";
import { checksum, fillPayload, payloadShape } from "./payload.js";
import { Link } from "./ring.js";
import { type GuestProgram, newTally, type RunParams, runGuest, type Tally } from "./roles.js";

export interface RingBaselineData {
  readonly kind: "sab-ring";
  readonly sab: SharedArrayBuffer;
  readonly guest: GuestProgram;
  readonly params: RunParams;
  readonly ctl: SharedArrayBuffer;
  readonly spinPolls: number;
  readonly peerTimeoutMs: number;
}

export interface PmBaselineData {
  readonly kind: "postMessage";
  readonly role: "producer" | "consumer";
  /** Arrives by message after start (see baseline.ts). */
  readonly port: MessagePort;
  readonly size: number;
  readonly count: number;
  readonly nonce: number;
  /** [0] go flag, [1] messages consumed, [2] ready count, [3] abort. */
  readonly ctl: SharedArrayBuffer;
  readonly timeoutMs: number;
}

const WINDOW = 1024;
const d = workerData as RingBaselineData | PmBaselineData;
const clockOffset = calibrateClock();
const now = (): number => performance.now() + clockOffset;

if (d.kind === "sab-ring") {
  const mem = new RawMem(d.sab);
  const t = newTally();
  const link = new Link(mem, mem.words(), {
    dirBase: 0,
    guest: d.guest.index,
    guests: d.params.guests,
    doorbell: true,
    spinPolls: d.spinPolls,
    peerTimeoutMs: d.peerTimeoutMs,
    ctl: new Int32Array(d.ctl),
    clockOffset,
  });
  runGuest(link, d.guest, d.params, t);
  parentPort!.postMessage(t);
} else {
  const port = await new Promise<MessagePort>((resolve) =>
    parentPort!.once("message", (m: { port: MessagePort }) => resolve(m.port)),
  );
  const pd: PmBaselineData = { ...d, port };
  parentPort!.postMessage(pd.role === "producer" ? pmProduce(pd) : await pmConsume(pd));
}

function pmStart(d: PmBaselineData, ctl: Int32Array): boolean {
  Atomics.add(ctl, 2, 1);
  const end = performance.now() + d.timeoutMs;
  while (Atomics.load(ctl, 0) === 0) {
    if (performance.now() > end) return false;
    Atomics.wait(ctl, 0, 0, 50);
  }
  return true;
}

function pmProduce(d: PmBaselineData): Tally {
  const t = newTally();
  const ctl = new Int32Array(d.ctl);
  const shape = payloadShape(d.size);
  const words = new Uint32Array(shape.words);
  fillPayload(shape, words, 0, true);
  const bytes = new Uint8Array(words.buffer, 0, d.size);
  if (!pmStart(d, ctl)) {
    t.status = "stopped";
    return t;
  }
  t.startMs = now();
  const deadline = performance.now() + d.timeoutMs;
  for (let seq = 1; seq <= d.count; seq++) {
    // Flow control: never more than WINDOW messages queued at the consumer.
    while (seq - Atomics.load(ctl, 1) > WINDOW) {
      if (Atomics.load(ctl, 3) !== 0 || performance.now() > deadline) {
        t.status = "stalled";
        t.endMs = now();
        return t;
      }
      Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 1);
    }
    fillPayload(shape, words, seq, false);
    const sum = checksum(words, shape.words, d.nonce);
    // A fresh copy per message, as a guest handing over a buffer would (structured clone copies it).
    d.port.postMessage({ seq, sum, payload: bytes });
    t.messages = seq;
  }
  t.endMs = now();
  t.bytes = t.messages * d.size;
  return t;
}

function pmConsume(d: PmBaselineData): Promise<Tally> {
  const t = newTally();
  const ctl = new Int32Array(d.ctl);
  const shape = payloadShape(d.size);
  const words = new Uint32Array(shape.words);
  const bytes = new Uint8Array(words.buffer, 0, d.size);
  const marks: number[] = [];
  return new Promise((resolve) => {
    let expected = 1;
    const timer = setTimeout(() => {
      t.status = "stalled";
      t.detail = "postMessage baseline timed out";
      Atomics.store(ctl, 3, 1);
      finish();
    }, d.timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      d.port.close();
      t.endMs = now();
      t.bytes = t.messages * d.size;
      const w: number[] = [];
      for (let i = 1; i < marks.length; i++) w.push(((marks[i]! - marks[i - 1]!) * 1e6) / 1024);
      w.sort((a, b) => a - b);
      t.windowP99Ns = w.length === 0 ? null : w[Math.min(w.length - 1, Math.ceil(0.99 * w.length) - 1)]!;
      resolve(t);
    };
    d.port.on("message", (m: { seq: number; sum: number; payload: Uint8Array }) => {
      if (expected === 1) {
        t.startMs = now();
        marks.push(t.startMs);
      }
      bytes.set(m.payload);
      if (m.seq !== expected || checksum(words, shape.words, d.nonce) !== m.sum || words[0] !== m.seq) {
        t.status = "error";
        t.detail = `postMessage baseline: message #${expected} arrived as sequence ${m.seq} or with a bad checksum`;
        Atomics.store(ctl, 3, 1);
        finish();
        return;
      }
      t.messages = expected;
      if ((expected & 63) === 0) {
        Atomics.store(ctl, 1, expected);
        Atomics.notify(ctl, 1);
        if ((expected & 1023) === 0) marks.push(now());
      }
      if (expected === d.count) finish();
      expected++;
    });
    if (!pmStart(d, ctl)) {
      t.status = "stopped";
      finish();
    }
  });
}

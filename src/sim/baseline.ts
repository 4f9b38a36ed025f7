/**
 * The same-run baselines: the same payloads between two threads over MessagePort.postMessage
 * (structured-clone copy) and over the run's own ring code on a plain SharedArrayBuffer (no
 * translation). Rates are taken from the producer's first send to the consumer's last receive on
 * the shared clock.
 */
import { MessageChannel } from "node:worker_threads";
import { spawnTsWorker } from "../threads/index.js";
import type { PmBaselineData, RingBaselineData } from "./baseline-worker.js";
import { newControl } from "./control.js";
import { PAGE, ringBytes, ringHeaderBytes, slotSizeFor } from "./layout.js";
import { orchestrate } from "./orchestrate.js";
import type { RingSpec } from "./ring.js";
import type { GuestProgram, RunParams, Tally } from "./roles.js";
import type { BaselineResult } from "./types.js";

const WORKER = new URL("./baseline-worker.ts", import.meta.url);

export interface BaselineOptions {
  /** sab-ring only: a request/response pair of rings instead of one stream (one op = one round trip). */
  readonly pingpong?: boolean;
  readonly timeoutMs?: number;
  readonly spinPolls?: number;
  readonly slots?: number;
}

export async function runBaseline(
  transport: "postMessage" | "sab-ring",
  size: number,
  count: number,
  opts: BaselineOptions = {},
): Promise<BaselineResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const nonce = (Math.random() * 2 ** 32) >>> 0;
  const [prod, cons] =
    transport === "postMessage"
      ? await runPm(size, count, nonce, timeoutMs)
      : await runRing(size, count, nonce, timeoutMs, opts);
  for (const t of [prod, cons])
    if (t.status !== "ok") throw new Error(`${transport} baseline ${size} B: ${t.status} ${t.detail}`);
  // Ping-pong: the initiator times whole round trips; a stream: first send to last receive.
  const pp = transport === "sab-ring" && opts.pingpong === true;
  const elapsedMs = pp ? prod.endMs - prod.startMs : cons.endMs - prod.startMs;
  const messages = pp ? prod.messages : cons.messages;
  return {
    name: `${transport}${pp ? " pingpong" : ""} ${size}B`,
    transport,
    size,
    messages,
    elapsedMs,
    msgsPerSec: (messages * 1000) / elapsedMs,
    bytesPerSec: (messages * size * 1000) / elapsedMs,
    p99WindowNs: pp ? (prod.latency?.p99Us ?? 0) * 1000 : (cons.windowP99Ns ?? 0),
  };
}

function unwrap(r: Tally | Error): Tally {
  if (r instanceof Error) throw r;
  return r;
}

async function runPm(size: number, count: number, nonce: number, timeoutMs: number): Promise<[Tally, Tally]> {
  const ch = new MessageChannel();
  const ctlSab = new SharedArrayBuffer(16);
  const ctl = new Int32Array(ctlSab);
  const workers = (["producer", "consumer"] as const).map((role, i) => {
    const data: Omit<PmBaselineData, "port"> = {
      kind: "postMessage",
      role,
      size,
      count,
      nonce,
      ctl: ctlSab,
      timeoutMs,
    };
    const w = spawnTsWorker(WORKER, data as unknown as Record<string, unknown>);
    // A MessagePort has to travel in a transfer list, which workerData cannot carry here.
    const port = i === 0 ? ch.port1 : ch.port2;
    w.postMessage({ port }, [port]);
    return w;
  });
  const start = setInterval(() => {
    if (Atomics.load(ctl, 2) >= 2) {
      Atomics.store(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      clearInterval(start);
    }
  }, 2);
  try {
    // This control block only carries the deadline: the postMessage workers start on ctlSab.
    const { results } = await orchestrate<Tally>(workers, newControl(2), { timeoutMs: timeoutMs + 5000 });
    return [unwrap(results[0]!), unwrap(results[1]!)];
  } finally {
    clearInterval(start);
  }
}

async function runRing(
  size: number,
  count: number,
  nonce: number,
  timeoutMs: number,
  opts: BaselineOptions,
): Promise<[Tally, Tally]> {
  const pp = opts.pingpong === true;
  const slots = opts.slots ?? (pp ? 8 : 256);
  const slotSize = slotSizeFor(size);
  const bytes = ringBytes(1, slotSize, slots);
  const sab = new SharedArrayBuffer(PAGE + bytes * (pp ? 2 : 1));
  const ring = (name: string, off: number, from: number, to: number): RingSpec => ({
    name,
    slotSize,
    slots,
    hdrBytes: ringHeaderBytes(1),
    msgBytes: size,
    nonce,
    producer: { domid: from, guest: from, base: off },
    readers: [{ domid: to, guest: to, base: off }],
  });
  const rings = pp
    ? [ring("request", PAGE, 0, 1), ring("response", PAGE + bytes, 1, 0)]
    : [ring("raw", PAGE, 0, 1)];
  const params: RunParams = { rings, guests: 2, nonce, count, latencyEvery: 64, setupTimeoutMs: 20_000 };
  const g = (
    index: number,
    program: GuestProgram["program"],
    writes: number[],
    reads: number[],
  ): GuestProgram => ({
    index,
    domid: index,
    name: `raw-${program}`,
    role: program,
    program,
    writes,
    reads: reads.map((r) => ({ ring: r, reader: 0 })),
  });
  const progs = pp
    ? [g(0, "initiator", [0], [1]), g(1, "responder", [1], [0])]
    : [g(0, "producer", [0], []), g(1, "consumer", [], [0])];
  const ctl = newControl(2);
  const workers = progs.map((guest) => {
    const data: RingBaselineData = {
      kind: "sab-ring",
      sab,
      guest,
      params,
      ctl: ctl.buffer as SharedArrayBuffer,
      spinPolls: opts.spinPolls ?? 2000,
      peerTimeoutMs: 5000,
    };
    return spawnTsWorker(WORKER, data as unknown as Record<string, unknown>);
  });
  const { results } = await orchestrate<Tally>(workers, ctl, { timeoutMs });
  return [unwrap(results[0]!), unwrap(results[1]!)];
}

/**
 * Suite `traffic` (one op = one message; ping-pong: one round trip): guest-to-guest traffic over
 * static shared memory, every guest on its own worker thread translating through its own stage-2,
 * against the same payloads over MessagePort.postMessage and over the same ring code on a plain
 * SharedArrayBuffer (no translation). meanNs = 1 / rate; p99Ns = p99 over 1024-message windows of
 * the time per message (ping-pong: p99 round trip).
 */
import type { Scenario, SimResult, Testbed } from "../src/sim/index.js";
import { buildTestbed, runBaseline, simulate } from "../src/sim/index.js";
import type { BenchCase, BenchSuite } from "./lib.js";

let bed: Testbed | undefined;

function system(): Testbed {
  // Guest addresses below 2^31 keep the vCPUs' address arithmetic in small integers (see the report).
  bed ??= buildTestbed({
    ramBytes: 256 * 2 ** 20,
    regionBytes: 8 * 2 ** 20,
    ownerGaddr: 0x5000_0000,
    borrowers: [
      { domid: 2, gaddr: 0x6000_0000 },
      { domid: 3, gaddr: 0x6800_0000 },
      { domid: 4, gaddr: 0x7000_0000 },
    ],
  });
  return bed;
}

const perOp = (msgsPerSec: number, p99: number | null): { meanNs: number; p99Ns: number } => ({
  meanNs: 1e9 / msgsPerSec,
  p99Ns: p99 ?? 1e9 / msgsPerSec,
});

async function baseline(
  transport: "postMessage" | "sab-ring",
  size: number,
  count: number,
  pingpong = false,
): Promise<{ meanNs: number; p99Ns: number }> {
  const b = await runBaseline(transport, size, count, { pingpong });
  return perOp(b.msgsPerSec, b.p99WindowNs);
}

/** Run a scenario and measure the guest that receives (or, for ping-pong, times round trips). */
async function shm(sc: Scenario, measured: number): Promise<{ meanNs: number; p99Ns: number }> {
  const r: SimResult = await simulate(system(), sc, { progress: false, timeoutMs: 60_000 });
  if (!r.ok) throw new Error(`traffic ${sc.kind} ${sc.size} B failed: ${r.errors.join("; ")}`);
  const g = r.guests.find((x) => x.domid === measured)!;
  const p99 = sc.kind === "pingpong" ? (g.latency?.p99Us ?? 0) * 1000 : g.p99WindowNs;
  return perOp(g.msgsPerSec, p99);
}

export const trafficSuite: BenchSuite = {
  name: "traffic",
  unit: "message",
  cases(): BenchCase[] {
    return [
      { name: "postMessage 64B", ops: 1, run: () => baseline("postMessage", 64, 200_000) },
      {
        name: "shm ring 64B",
        baseline: "postMessage 64B",
        ops: 1,
        target: { maxRatio: 0.1 },
        run: () => shm({ kind: "stream", size: 64, count: 1_000_000 }, 2),
      },
      { name: "raw SAB ring 64B", ops: 1, run: () => baseline("sab-ring", 64, 1_000_000) },
      {
        name: "shm ring 64B polling",
        baseline: "raw SAB ring 64B",
        ops: 1,
        run: () => shm({ kind: "stream", size: 64, count: 1_000_000, doorbell: false }, 2),
      },
      { name: "raw SAB ring 4KiB", ops: 1, run: () => baseline("sab-ring", 4096, 200_000) },
      {
        name: "shm ring 4KiB",
        baseline: "raw SAB ring 4KiB",
        ops: 1,
        target: { maxRatio: 2 },
        run: () => shm({ kind: "stream", size: 4096, count: 200_000 }, 2),
      },
      { name: "postMessage 4KiB", ops: 1, run: () => baseline("postMessage", 4096, 100_000) },
      {
        name: "shm ring 64KiB",
        ops: 1,
        run: () => shm({ kind: "stream", size: 65536, count: 10_000, slots: 32 }, 2),
      },
      { name: "raw SAB pingpong 64B", ops: 1, run: () => baseline("sab-ring", 64, 50_000, true) },
      {
        name: "shm pingpong 64B",
        baseline: "raw SAB pingpong 64B",
        ops: 1,
        run: () => shm({ kind: "pingpong", size: 64, count: 50_000 }, 1),
      },
      {
        name: "shm fanout x3 4KiB",
        baseline: "raw SAB ring 4KiB",
        ops: 1,
        run: () => shm({ kind: "fanout", size: 4096, count: 100_000 }, 4),
      },
      {
        name: "shm many 3->1 64B",
        baseline: "raw SAB ring 64B",
        ops: 1,
        run: () => shm({ kind: "many", size: 64, count: 300_000 }, 1),
      },
    ];
  },
};

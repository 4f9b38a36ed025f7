/**
 * The main thread's side of a run: move the workers through the start phases, call back on every
 * tick (timed destroys, stop at the end of a timed run, progress), enforce the overall deadline and
 * always terminate every worker. Polls with short timers so the event loop stays free.
 */
import type { Worker } from "node:worker_threads";
import { workerResult } from "../threads/index.js";
import { abortRun, CTL_ABORT, CTL_READY, PHASE_ATTACH, PHASE_GO, setPhase } from "./control.js";

export interface OrchestrateOptions {
  readonly timeoutMs: number;
  /** Called every tick once traffic runs (ms since the start signal). */
  readonly onTick?: (sinceGoMs: number) => void;
  /** Tick period while traffic runs (default 10 ms). */
  readonly tickMs?: number;
}

export interface Orchestrated<R> {
  /** One per worker: its result, or the error it died with. */
  readonly results: (R | Error)[];
  /** performance.now() of the start signal (main thread), or null if never reached. */
  readonly goAt: number | null;
  readonly endAt: number;
  readonly timedOut: boolean;
}

const GRACE_MS = 2000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function orchestrate<R>(
  workers: readonly Worker[],
  ctl: Int32Array,
  opts: OrchestrateOptions,
): Promise<Orchestrated<R>> {
  const n = workers.length;
  const results: (R | Error | undefined)[] = new Array(n).fill(undefined);
  let settled = 0;
  workers.forEach((w, i) => {
    workerResult<R>(w).then(
      (r) => {
        results[i] = r;
        settled++;
      },
      (e: unknown) => {
        results[i] = e instanceof Error ? e : new Error(String(e));
        settled++;
        abortRun(ctl);
      },
    );
  });
  const t0 = performance.now();
  let goAt: number | null = null;
  let phase = 0;
  let timedOut = false;
  let abortedAt: number | null = null;
  try {
    while (settled < n) {
      const now = performance.now();
      const aborted = Atomics.load(ctl, CTL_ABORT) !== 0;
      const ready = Atomics.load(ctl, CTL_READY);
      if (phase === 0 && (ready >= n || aborted)) {
        phase = 1;
        setPhase(ctl, PHASE_ATTACH);
      }
      if (phase === 1 && (ready >= 2 * n || aborted)) {
        phase = 2;
        goAt = performance.now();
        setPhase(ctl, PHASE_GO);
      }
      if (goAt !== null && !aborted) opts.onTick?.(now - goAt);
      if (!timedOut && now - t0 > opts.timeoutMs) {
        timedOut = true;
        abortRun(ctl);
      }
      if (aborted && abortedAt === null) abortedAt = now;
      // Workers check the abort flag at least every sleep slice; past the grace period they are stuck.
      if (abortedAt !== null && now - abortedAt > GRACE_MS) break;
      await sleep(goAt === null ? 5 : (opts.tickMs ?? 10));
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return {
    results: results.map((r) => r ?? new Error("worker did not finish (terminated)")),
    goAt,
    endAt: performance.now(),
    timedOut,
  };
}

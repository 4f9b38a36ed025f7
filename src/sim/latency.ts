/** Latency samples in a preallocated reservoir (uniform over the run once it is full). */
import type { LatencyStats } from "./types.js";

export class LatencyRecorder {
  private readonly buf: Float64Array;
  private n = 0;
  max = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Float64Array(capacity);
  }

  add(us: number): void {
    if (us > this.max) this.max = us;
    const cap = this.buf.length;
    if (this.n < cap) this.buf[this.n] = us;
    else {
      const j = Math.floor(Math.random() * (this.n + 1));
      if (j < cap) this.buf[j] = us;
    }
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencyStats | null {
    if (this.n === 0) return null;
    const s = this.buf.slice(0, Math.min(this.n, this.buf.length)).sort();
    return {
      samples: this.n,
      p50Us: quantile(s, 0.5),
      p90Us: quantile(s, 0.9),
      p99Us: quantile(s, 0.99),
      maxUs: this.max,
    };
  }
}

/** Nearest-rank quantile of a sorted array. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * The benchmark harness: every case is measured with tinybench (or, for cases that run across
 * threads, by its own clock) and reported per op, next to the raw baseline case measured in the
 * same run, with ratio = case mean time per op / baseline mean time per op.
 */
import { Bench } from "tinybench";

export interface BenchCase {
  readonly name: string;
  /** Name of the raw case (same suite) this case is compared with; absent for a raw case. */
  readonly baseline?: string;
  /** Ops done by one call of fn (e.g. 262144 pages, 1M accesses). */
  readonly ops: number;
  /** Target for the ratio, e.g. { maxRatio: 1.5 }, or for throughput { minOpsPerSec: 20e6 }. */
  readonly target?: { readonly maxRatio?: number; readonly minOpsPerSec?: number };
  /** Measured by tinybench: one call does `ops` ops. */
  readonly fn?: () => unknown;
  /** Untimed set-up before / clean-up after each call of fn. */
  readonly before?: () => void;
  readonly after?: () => void;
  /** Measured by the case itself (multi-threaded cases). */
  readonly run?: () => Promise<{ meanNs: number; p99Ns: number }>;
}

export interface BenchSuite {
  readonly name: string;
  readonly unit: string;
  setup?(): void | Promise<void>;
  cases(): BenchCase[];
  teardown?(): void | Promise<void>;
}

export interface BenchResult {
  suite: string;
  name: string;
  opsPerSec: number;
  meanNs: number;
  p99Ns: number;
  baseline: string | null;
  ratio: number | null;
  target: string | null;
  pass: boolean | null;
}

export interface RunOptions {
  /** Milliseconds of sampling per tinybench case. */
  readonly timeMs: number;
}

export async function runSuite(suite: BenchSuite, opts: RunOptions): Promise<BenchResult[]> {
  await suite.setup?.();
  const cases = suite.cases();
  const measured = new Map<string, { meanNs: number; p99Ns: number }>();
  for (const c of cases) {
    if (c.fn) {
      const fn = c.fn;
      const bench = new Bench({ time: opts.timeMs, warmupTime: Math.min(200, opts.timeMs / 2) });
      const hooks = {
        ...(c.before ? { beforeEach: c.before } : {}),
        ...(c.after ? { afterEach: c.after } : {}),
      };
      bench.add(
        c.name,
        () => {
          fn();
        },
        hooks,
      );
      await bench.run();
      const r = bench.tasks[0]!.result;
      if (r.state !== "completed") throw new Error(`bench ${suite.name}/${c.name}: ${r.state}`);
      measured.set(c.name, { meanNs: (r.latency.mean * 1e6) / c.ops, p99Ns: (r.latency.p99 * 1e6) / c.ops });
    } else if (c.run) {
      measured.set(c.name, await c.run());
    }
  }
  await suite.teardown?.();
  return cases.map((c) => {
    const m = measured.get(c.name)!;
    const b = c.baseline === undefined ? undefined : measured.get(c.baseline);
    if (c.baseline !== undefined && !b)
      throw new Error(`bench ${suite.name}/${c.name}: no baseline ${c.baseline}`);
    const ratio = b ? m.meanNs / b.meanNs : null;
    const opsPerSec = 1e9 / m.meanNs;
    let target: string | null = null;
    let pass: boolean | null = null;
    if (c.target?.maxRatio !== undefined && ratio !== null) {
      target = `ratio <= ${c.target.maxRatio}`;
      pass = ratio <= c.target.maxRatio;
    } else if (c.target?.minOpsPerSec !== undefined) {
      target = `>= ${fmtRate(c.target.minOpsPerSec)}/s`;
      pass = opsPerSec >= c.target.minOpsPerSec;
    }
    return {
      suite: suite.name,
      name: c.name,
      opsPerSec,
      meanNs: m.meanNs,
      p99Ns: m.p99Ns,
      baseline: c.baseline ?? null,
      ratio,
      target,
      pass,
    };
  });
}

export function fmtRate(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function fmtNs(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} µs` : `${n.toFixed(2)} ns`;
}

/** A readable table of results. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = [["suite", "case", "ops/s", "mean/op", "p99/op", "baseline", "ratio", "target"]];
  for (const r of results)
    rows.push([
      r.suite,
      r.name,
      fmtRate(r.opsPerSec),
      fmtNs(r.meanNs),
      fmtNs(r.p99Ns),
      r.baseline ?? "(raw)",
      r.ratio === null ? "" : `${r.ratio.toFixed(3)}`,
      r.target === null ? "" : `${r.target} ${r.pass ? "ok" : "MISSED"}`,
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

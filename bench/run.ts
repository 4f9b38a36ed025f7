/**
 * `npm run bench [suite...] [--time ms] [--json file]`: run the benchmark suites, print a table and
 * write the machine-readable results (default bench/results.json).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { allocSuite } from "./alloc.js";
import { guestSuite } from "./guest.js";
import { type BenchResult, type BenchSuite, formatTable, runSuite } from "./lib.js";
import { mapSuite } from "./map.js";
import { refcountSuite } from "./refcount.js";
import { trafficSuite } from "./traffic.js";
import { translateSuite } from "./translate.js";

export const SUITES: readonly BenchSuite[] = [
  refcountSuite,
  allocSuite,
  translateSuite,
  mapSuite,
  trafficSuite,
  guestSuite,
];

export async function runBenchmarks(
  names: readonly string[],
  opts: { timeMs: number; log?: (s: string) => void },
): Promise<BenchResult[]> {
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(
      `unknown bench suite ${unknown.join(", ")} (have: ${SUITES.map((s) => s.name).join(", ")})`,
    );
  const chosen = names.length === 0 ? SUITES : SUITES.filter((s) => names.includes(s.name));
  const all: BenchResult[] = [];
  for (const s of chosen) {
    opts.log?.(`running suite ${s.name} (one op = one ${s.unit})...`);
    all.push(...(await runSuite(s, { timeMs: opts.timeMs })));
  }
  return all;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      time: { type: "string", default: "1000" },
      json: { type: "string", default: "bench/results.json" },
    },
  });
  const results = await runBenchmarks(positionals, {
    timeMs: Number(values.time),
    log: (s) => process.stderr.write(`${s}\n`),
  });
  console.log(formatTable(results));
  writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${values.json}`);
}

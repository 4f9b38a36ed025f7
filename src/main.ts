/**
 * `npm start`: the built-in examples end to end, through the same command functions as the `sshm`
 * CLI. The dom0less system of Xen's booting.txt and the xl man page's three VMs are checked,
 * booted (guest DTBs written), drawn (out/map.html, out/map.svg and the xl host's picture) and run
 * with a short stream of 4 KiB messages over a shared region; then one summary table.
 */
import { mkdirSync, rmSync } from "node:fs";
import {
  bootCommand,
  checkCommand,
  type Io,
  mapCommand,
  printLines,
  type SimulateResultCmd,
  simulateCommand,
} from "./cli/commands.js";
import { indent, styleFor, table } from "./cli/text.js";
import type { BootReport } from "./domains/index.js";

const OUT = "out";
const started = performance.now();
const style = styleFor(process.stdout);

/** Command output indented under its heading; errors stay on stderr. */
const nested: Io = {
  out: (s) => process.stdout.write(`${indent(s.replace(/\n$/, "").split("\n")).join("\n")}\n`),
  err: (s) => process.stderr.write(s),
  style,
};

function heading(s: string): void {
  process.stdout.write(`\n${style.bold(style.cyan(`== ${s}`))}\n`);
}

interface Example {
  name: string;
  files: string[];
  /**
   * Where its guest DTBs go. One folder per example: both hosts have a hardware domain, named
   * Dom0 by the dom0less boot and Domain-0 by xl, and one folder would hold both DTBs.
   */
  guests: string;
  maps: string[];
  /** The region the traffic runs over, and for how long. */
  region: string;
  durationMs: number;
}

const EXAMPLES: Example[] = [
  {
    name: "dom0less (booting.txt)",
    files: ["examples/dom0less/booting.dts"],
    guests: `${OUT}/guests/dom0less`,
    maps: [`${OUT}/map.html`, `${OUT}/map.svg`],
    region: "my-shared-mem-1",
    durationMs: 1000,
  },
  {
    name: "xl (man page vm1, vm2, vm3)",
    files: ["examples/xl/vm1.cfg", "examples/xl/vm2.cfg", "examples/xl/vm3.cfg"],
    guests: `${OUT}/guests/xl`,
    maps: [`${OUT}/map-xl.html`, `${OUT}/map-xl.svg`],
    region: "ID1",
    durationMs: 500,
  },
];

interface Outcome {
  ex: Example;
  check: number;
  report: BootReport;
  guestDtbs: number;
  sim: SimulateResultCmd | null;
}

function trafficText(o: Outcome): string {
  const r = o.sim?.result;
  if (!r) return "not run";
  const consumers = r.guests.filter((g) => g.role === "consumer");
  const rate = consumers.reduce((n, g) => n + g.msgsPerSec, 0);
  const bytes = consumers.reduce((n, g) => n + g.bytesPerSec, 0);
  const verdict = r.ok ? style.green("verified") : style.red(`FAILED (${r.errors.length} errors)`);
  return `${r.scenario.kind} 4 KiB over ${r.region}: ${(rate / 1000).toFixed(1)} k msg/s, ${(bytes / 1e6).toFixed(0)} MB/s, ${verdict}`;
}

async function runExample(ex: Example): Promise<Outcome> {
  heading(`${ex.name}: sshm check ${ex.files.join(" ")}`);
  const check = checkCommand(ex.files, {}, nested);

  heading(`sshm boot ${ex.files.join(" ")} --guest-dtb ${ex.guests}`);
  const boot = bootCommand(ex.files, { guestDtb: ex.guests, showGuestDts: false }, nested);

  heading(`sshm map ${ex.files.join(" ")} -o ...`);
  for (const m of ex.maps) await mapCommand(ex.files, { output: m }, nested);

  let sim: SimulateResultCmd | null = null;
  if (boot.report.verdict === "accepted") {
    heading(
      `sshm simulate ${ex.files.join(" ")} --scenario stream --size 4k --duration ${ex.durationMs}ms --region ${ex.region}`,
    );
    sim = await simulateCommand(
      ex.files,
      { scenario: "stream", size: 4096, durationMs: ex.durationMs, region: ex.region },
      nested,
    );
  }
  return { ex, check: check.code, report: boot.report, guestDtbs: boot.written.length, sim };
}

mkdirSync(OUT, { recursive: true });
// Guest DTBs of an earlier run (older layouts wrote them all into out/guests) must not linger.
rmSync(`${OUT}/guests`, { recursive: true, force: true });
const outcomes: Outcome[] = [];
for (const ex of EXAMPLES) outcomes.push(await runExample(ex));

heading("summary");
const rows = outcomes.map((o) => [
  o.ex.name,
  `${o.report.verdict} (exit ${o.check})`,
  String(o.report.domains.length),
  String(o.report.regions.length),
  String(o.report.warnings.length),
  o.ex.maps.join(", "),
  trafficText(o),
]);
printLines(
  nested,
  table(["example", "check", "domains", "regions", "warnings", "map", "traffic"], rows, style),
);
const dtbs = outcomes.reduce((n, o) => n + o.guestDtbs, 0);
process.stdout.write(
  `\n${dtbs} guest DTBs in ${EXAMPLES.map((e) => e.guests).join(" and ")}; done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
);

// The examples are meant to boot cleanly and carry verified traffic; anything else is a failure.
const ok = outcomes.every((o) => o.check === 0 && o.sim?.result?.ok === true);
process.exitCode = ok ? 0 : 1;

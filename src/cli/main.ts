/**
 * `sshm`: argument parsing and exit codes. 0 accepted, 1 rejected/crash or unreadable/invalid input,
 * 2 accepted with warnings, 64 usage error (EX_USAGE of sysexits.h, what scripts expect for "you
 * called me wrong"). The work itself is in commands.ts, shared with `npm start`.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { isSshmError } from "../common/errors.js";
import { MAX_MSG, MIN_MSG } from "../sim/layout.js";
import type { ScenarioKind } from "../sim/types.js";
import type { Io } from "./commands.js";
import {
  CPU_HELP,
  type HostCpuOptions,
  hostCpuOptions,
  PA_BITS_HELP,
  parseCpu,
  parsePaBits,
} from "./host-options.js";
import { styleFor } from "./text.js";
import { parseCount, parseDuration, parseRamBank, parseSize } from "./units.js";
import { UsageError } from "./usage.js";
import { versionText } from "./version.js";

export const EXIT_USAGE = 64;

const SCENARIOS: readonly ScenarioKind[] = ["stream", "pingpong", "fanout", "many"];

/**
 * The commands load the whole emulator; importing them only when one runs keeps --help and usage
 * errors instant.
 */
const commands = () => import("./commands.js");

/** Wrap a unit parser so a bad value becomes commander's "option '--x' argument 'y' is invalid". */
function arg<T>(parse: (s: string) => T): (s: string) => T {
  return (s) => {
    try {
      return parse(s);
    } catch (e) {
      throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
    }
  };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

type RamArg = { base: number; size: number };

/** --host-ram, shared by every command that builds a system (repeatable: one bank each). */
function hostRamOption(): Option {
  return new Option(
    "--host-ram <base+size>",
    "xl host RAM bank, e.g. 0x40000000+4G (repeat for more banks; default one 4 GiB bank at 0x40000000); a host device tree has its own /memory",
  )
    .argParser((v: string, prev: RamArg[]) => [...prev, arg(parseRamBank)(v)])
    .default([]);
}

/**
 * bench/run.ts SUITES, named here so `bench --help` does not load the emulator; a test keeps the
 * two lists equal.
 */
export const BENCH_SUITES: readonly (readonly [string, string])[] = [
  ["refcount", "get_page_nr + put_page_nr over 1 GiB of frames vs raw Atomics.add"],
  ["alloc", "buddy heap alloc + free of 1 GiB in 4 KiB pages and 2 MiB blocks vs a raw free stack"],
  [
    "translate",
    "vCPU stage-2 reads/writes (TLB hits, random, misses with walk + refill) vs raw typed arrays",
  ],
  ["map", "p2m map/unmap of 1 GiB foreign (4 KiB entries, blocks) vs raw descriptor writes"],
  [
    "traffic",
    "shm ring, pingpong, fanout, many-to-one between worker threads vs postMessage and a raw SAB ring",
  ],
  [
    "guest",
    "A64 interpreter: guest instructions/s of a load/ALU/store loop through the stage-2 vs a flat floor and qemu-aarch64",
  ],
];

/** --size: the simulator's ring slots carry 8 B … 64 KiB (src/sim/layout.ts MIN_MSG, MAX_MSG). */
function parsePayload(text: string): number {
  const n = parseSize(text);
  if (n < MIN_MSG || n > MAX_MSG)
    throw new RangeError(`${n} bytes is outside the message sizes the simulator carries, 8 B … 64 KiB`);
  return n;
}

const FILES_HELP =
  "a host device tree (DTS or DTB), an ImageBuilder config, or xl configs (created in the order given), or a host device tree with xl configs: Xen boots the tree (it must have a Dom0), then xl creates the configs' domains; the kind is read from the content";

/** --pa-bits and --cpu, on every command that boots a host. */
function hostOptions(c: Command): Command {
  return c
    .option("--pa-bits <n>", PA_BITS_HELP, arg(parsePaBits))
    .option("--cpu <name>", CPU_HELP, arg(parseCpu));
}

function example(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

interface State {
  code: number;
  json: boolean;
  /** The command being run, for the usage line printed with a usage error. */
  cmd: Command | null;
}

function buildProgram(io: Io, state: State): Command {
  const program = new Command("sshm")
    .description(
      "Check, boot, draw and exercise Xen on Arm static shared memory configurations before real hardware.",
    )
    .version(versionText(), "-V, --version", "print sshm's version and the Xen version and commit it models")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError()
    .addHelpText(
      "after",
      `\nExit status: 0 accepted, 1 rejected, crash or unreadable input, 2 accepted with warnings, 64 usage error.${example(
        ["sshm check examples/dom0less/booting.dts", "sshm boot examples/xl/vm1.cfg examples/xl/vm2.cfg"],
      )}`,
    );

  // Every command re-prints its own usage line after an error (subcommands inherit these settings).
  const run =
    <A extends unknown[]>(fn: (...a: A) => number | Promise<number>) =>
    async (...a: A): Promise<void> => {
      state.code = await fn(...a);
    };

  const check = program
    .command("check")
    .description("say what Xen would do with a configuration: accept it, panic (where and why) or crash")
    .argument("<FILE...>", FILES_HELP)
    .addOption(hostRamOption())
    .option(
      "--json",
      "print one JSON object {source, files, kind, verdict, phase, log, panic, failedNode, notes, warnings, paRange, exitCode} (docs/schema/check.json)",
    )
    .addHelpText(
      "after",
      `\nExit status: 0 accepted, 1 rejected, crash or unreadable input, 2 accepted with warnings, 64 usage error.${example(
        [
          "sshm check examples/dom0less/booting.dts",
          "sshm check --json examples/xl/vm1.cfg examples/xl/vm2.cfg examples/xl/vm3.cfg",
        ],
      )}`,
    );
  hostOptions(check);
  check.action(
    run(async (files: string[], o: { json?: boolean; hostRam: RamArg[] } & HostCpuOptions) => {
      state.cmd = check;
      state.json = o.json === true;
      return (await commands()).checkCommand(
        files,
        { json: o.json === true, hostRam: o.hostRam, host: hostCpuOptions(o) },
        io,
      ).code;
    }),
  );

  const boot = program
    .command("boot")
    .description(
      "boot (or xl create) the system, optionally destroy domains, and print its memory layout: mappings, regions, reference counts, xenstore, guest device trees",
    )
    .argument("<FILE...>", FILES_HELP)
    .addOption(hostRamOption())
    .option("--destroy <name>", "destroy this domain after booting (repeat: destroyed in order)", collect, [])
    .option(
      "--guest-dtb <dir>",
      "write each guest's device tree blob to <dir>/<domain>.dtb: for a dom0less domU the tree Xen builds (prepare_dtb_domU); for Dom0 and xl guests only the /memory and /reserved-memory nodes Xen and libxl write, the rest of those trees (from the host DT, from libxl) is not modelled; the boot output lists each tree's notes",
    )
    .option(
      "--load <FILE@ADDR>",
      "put FILE's bytes in host RAM at ADDR before Xen starts (QEMU's generic loader); kernels are then probed, placed and copied as Xen does (repeat)",
      collect,
      [],
    )
    .option(
      "--xen-build <debug|release>",
      "the Xen build modelled: guest RAM Xen never wrote reads 0xc2 (debug, default) or 0",
    )
    .option("--json", "print the boot report as one JSON object (docs/schema/boot.json)")
    .addHelpText(
      "after",
      `\nExit status: 0 accepted, 1 rejected, crash or unreadable input, 2 accepted with warnings, 64 usage error.${example(
        [
          "sshm boot examples/dom0less/booting.dts --guest-dtb out/guests",
          "sshm boot host.dts --load guest.bin@0x80000000",
          "sshm boot examples/xl/vm1.cfg examples/xl/vm2.cfg --destroy vm2",
        ],
      )}`,
    );
  hostOptions(boot);
  boot.action(
    run(
      async (
        files: string[],
        o: {
          destroy: string[];
          guestDtb?: string;
          json?: boolean;
          load: string[];
          xenBuild?: string;
          hostRam: RamArg[];
        } & HostCpuOptions,
      ) => {
        state.cmd = boot;
        state.json = o.json === true;
        return (await commands()).bootCommand(files, { ...o, host: hostCpuOptions(o) }, io).code;
      },
    ),
  );

  const map = program
    .command("map")
    .description(
      "draw the memory map (host space and each domain's IPA space, shm regions by id) as SVG or self-contained HTML",
    )
    .argument("<FILE...>", FILES_HELP)
    .addOption(hostRamOption())
    .requiredOption("-o, --output <file>", "picture to write: .svg or .html")
    .addHelpText(
      "after",
      `\nThe picture is written whatever Xen does (a refused boot shows how far Xen got); the exit status is check's.\nExit status: 0 accepted, 1 rejected, crash or unreadable input, 2 accepted with warnings, 64 usage error.${example(
        ["sshm map examples/dom0less/booting.dts -o out/map.html"],
      )}`,
    );
  hostOptions(map);
  map.action(
    run(async (files: string[], o: { output: string; hostRam: RamArg[] } & HostCpuOptions) => {
      state.cmd = map;
      return (
        await (
          await commands()
        ).mapCommand(files, { output: o.output, hostRam: o.hostRam, host: hostCpuOptions(o) }, io)
      ).code;
    }),
  );

  const simulate = program
    .command("simulate")
    .description("run traffic between the domains sharing a region, through their stage-2 translations")
    .argument("<FILE...>", FILES_HELP)
    .addOption(hostRamOption())
    .addOption(
      new Option("--scenario <kind>", "traffic pattern")
        .choices(SCENARIOS as ScenarioKind[])
        .default("stream"),
    )
    .option("--size <bytes>", "payload per message: 64, 4k, 64KiB (8 B … 64 KiB)", arg(parsePayload), 64)
    .option(
      "--duration <time>",
      "run this long, with a unit: 500ms, 2s, 1m (a bare number is refused; default 2s unless --count)",
      arg(parseDuration),
    )
    .option("--count <n>", "messages per producer (round trips for pingpong)", arg(parseCount))
    .option("--region <id>", "shm region to use (default: the first one)")
    .option("--no-doorbell", "poll only, never sleep on the doorbell")
    .option(
      "--json",
      "print check's object and the run's result as one JSON object (docs/schema/simulate.json)",
    )
    .addHelpText(
      "after",
      `\nExit status: 0 traffic verified, 1 faults, integrity errors or a refused boot, 2 traffic verified on a\nconfiguration with sshm warnings (printed after the result; check exits 2 on it too), 64 usage error\n(any bad option value, also a --size or --region the region's participants cannot carry).${example(
        [
          "sshm simulate examples/dom0less/booting.dts --scenario stream --size 4k --duration 1s --region my-shared-mem-1",
          "sshm simulate examples/xl/vm1.cfg examples/xl/vm2.cfg --scenario pingpong --size 64 --count 10000",
        ],
      )}`,
    );
  hostOptions(simulate);
  simulate.action(
    run(
      async (
        files: string[],
        o: {
          scenario: ScenarioKind;
          size: number;
          duration?: number;
          count?: number;
          region?: string;
          doorbell: boolean;
          json?: boolean;
          hostRam: RamArg[];
        } & HostCpuOptions,
      ) => {
        state.cmd = simulate;
        state.json = o.json === true;
        const r = await (await commands()).simulateCommand(
          files,
          {
            scenario: o.scenario,
            size: o.size,
            doorbell: o.doorbell,
            json: o.json === true,
            hostRam: o.hostRam,
            host: hostCpuOptions(o),
            ...(o.duration === undefined ? {} : { durationMs: o.duration }),
            ...(o.count === undefined ? {} : { count: o.count }),
            ...(o.region === undefined ? {} : { region: o.region }),
          },
          io,
        );
        return r.code;
      },
    ),
  );

  const bench = program
    .command("bench")
    .description("run the benchmark suites and print their table with baselines and ratios")
    .argument("[SUITE...]", `suites to run (default: all): ${BENCH_SUITES.map(([n]) => n).join(", ")}`)
    .option("--json <file>", "also write the results as JSON to <file>")
    .option("--time <ms>", "time per benchmark case in milliseconds", arg(parseCount), 1000)
    .addHelpText(
      "after",
      `\nSuites:\n${BENCH_SUITES.map(([n, what]) => `  ${n.padEnd(11)}${what}`).join("\n")}\n${example([
        "sshm bench",
        "sshm bench translate --time 200 --json out/bench.json",
      ])}`,
    );
  bench.action(
    run(async (suites: string[], o: { json?: string; time: number }) => {
      state.cmd = bench;
      return (await commands()).benchCommand(
        suites,
        { timeMs: o.time, ...(o.json === undefined ? {} : { json: o.json }) },
        io,
      );
    }),
  );

  for (const c of program.commands) {
    const name = `sshm ${c.name()}`;
    c.showHelpAfterError(`usage: ${name} ${c.usage()}\n(run "${name} --help" for details)`);
    // Commander says "error: ..."; name the command instead, as the other sshm messages do.
    c.configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(s.replace(/^error: /, `${name}: `)),
    });
  }
  return program;
}

/** Run the CLI on argv (node-style: argv[0] node, argv[1] script); returns the exit status. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const state: State = { code: 0, json: false, cmd: null };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync([...argv]);
    return state.code;
  } catch (e) {
    // With --json every failure is still one JSON object on stdout (commander's own usage errors
    // come before any action ran, so the flag is read from argv).
    const json = state.json || argv.includes("--json");
    const jsonError = (code: string, message: string, exitCode: number): void => {
      if (json) io.out(`${JSON.stringify({ error: { code, message }, exitCode }, null, 2)}\n`);
    };
    if (e instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      jsonError("EUSAGE", e.message.replace(/^error: /, ""), EXIT_USAGE);
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      const c = state.cmd;
      const name = c ? `sshm ${c.name()}` : "sshm";
      const message = printable(e.message);
      io.err(`${name}: ${message}\n`);
      if (c) io.err(`usage: ${name} ${c.usage()}\n(run "${name} --help" for details)\n`);
      jsonError("EUSAGE", message, EXIT_USAGE);
      return EXIT_USAGE;
    }
    if (isSshmError(e)) {
      const message = printable(e.message);
      io.err(`sshm: ${message}\n`);
      jsonError(e.code, message, 1);
      return 1;
    }
    throw e;
  }
}

/**
 * A message that may quote the user's input, made safe for a terminal: control characters, DEL
 * and C1 controls become \\xNN (a raw byte from a binary file must never reach the terminal).
 */
export function printable(s: string): string {
  return s.replace(
    /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

export function processIo(): Io {
  // A reader that stops early (`sshm check --help | head`) closes the pipe: end quietly the way a
  // C tool killed by SIGPIPE does (status 128 + 13), not with a stack trace from the write.
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
      process.exit(141);
    });
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    style: styleFor(process.stdout),
  };
}

/**
 * Runs the real `sshm` command (bin/sshm.mjs through node) from the repository root. Each start
 * costs about half a second of tsx, so a test file starts all its commands at once in beforeAll
 * (a few at a time) and its tests read the finished runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const FIX = "test/cli/fixtures";
export const DT = "examples/dom0less/booting.dts";
export const XL = ["examples/xl/vm1.cfg", "examples/xl/vm2.cfg", "examples/xl/vm3.cfg"];

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

// A colour-free environment: the tests read the text as a pipe would get it.
const ENV = { ...process.env, NO_COLOR: "1" };

export function sshm(...args: string[]): Run {
  const r = spawnSync(process.execPath, ["bin/sshm.mjs", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: ENV,
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split("\n") };
}

function sshmAsync(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["bin/sshm.mjs", ...args], { cwd: ROOT, env: ENV });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => p.kill(), 60_000);
    p.on("error", reject);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, lines: stdout.split("\n") });
    });
  });
}

/** Run every named command line, `parallel` at a time; resolves to the runs by name. */
export async function runAll<K extends string>(
  specs: Record<K, readonly string[]>,
  parallel = 4,
): Promise<Record<K, Run>> {
  const entries = Object.entries(specs) as [K, readonly string[]][];
  const out = {} as Record<K, Run>;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const [name, args] = entries[next++]!;
      out[name] = await sshmAsync(args);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** stderr carries no JavaScript stack trace (input errors are reported, not thrown). */
export function noStack(r: Run): boolean {
  return !/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr);
}

/** What the CLI printed and returned when run in this process. */
export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI in this process (runCli is what bin/sshm.mjs calls), from the repository root and
 * colour-free: no tsx start-up per command, for test files that run many.
 */
export async function sshmInProcess(...args: string[]): Promise<Ran> {
  const { runCli } = await import("../../src/cli/main.js");
  const { styleFor } = await import("../../src/cli/text.js");
  let stdout = "";
  let stderr = "";
  const io = {
    out: (t: string) => {
      stdout += t;
    },
    err: (t: string) => {
      stderr += t;
    },
    style: styleFor({ isTTY: false }),
  };
  process.chdir(ROOT);
  const status = await runCli(["node", "sshm", ...args], io);
  return { status, stdout, stderr };
}

/**
 * A reader that closes the pipe early (`sshm boot ... | head -1`) ends sshm quietly with the status
 * of a tool killed by SIGPIPE (141), never a Node stack trace for the failed write.
 */
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { DT, ROOT } from "./run.js";

it("closing stdout early: exit 141, nothing on stderr", async () => {
  const p = spawn(process.execPath, ["bin/sshm.mjs", "boot", "--json", DT], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  p.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  // Close our end before sshm has booted anything: its first write finds the pipe closed.
  p.stdout.destroy();
  const status = await new Promise<number | null>((resolve) => p.on("close", resolve));
  expect(stderr).toBe("");
  expect(status).toBe(141);
}, 60_000);

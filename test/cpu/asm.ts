/** Assemble a bare-metal A64 snippet with the cross toolchain into raw bytes (test helper). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function assemble(src: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "sshm-asm-"));
  try {
    writeFileSync(join(dir, "t.S"), `.arch armv8.1-a+crc\n${src}\n`);
    execFileSync("aarch64-linux-gnu-as", ["-o", join(dir, "t.o"), join(dir, "t.S")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    execFileSync("aarch64-linux-gnu-objcopy", [
      "-O",
      "binary",
      "-j",
      ".text",
      join(dir, "t.o"),
      join(dir, "t.bin"),
    ]);
    return new Uint8Array(readFileSync(join(dir, "t.bin")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
// The sshm command: TypeScript sources run through tsx, registered before the CLI is imported.
import { register } from "tsx/esm/api";

register();
const { runCli, processIo } = await import("../src/cli/main.ts");
// exitCode rather than exit(): stdout is drained before the process ends (pipes, large JSON).
process.exitCode = await runCli(process.argv, processIo());

// Worker for atomics.test.ts: one vCPU of the guest, on its own thread over the shared host memory.
import { parentPort, workerData } from "node:worker_threads";
import { A64Cpu, MAX_CORE } from "../../src/cpu/index.js";
import { type P2mHandle, Vcpu } from "../../src/p2m/index.js";
import { attachMachine, type MachineHandle } from "../../src/pagealloc/index.js";

const { handle, p2m, entry, done, iterations, gate } = workerData as {
  handle: MachineHandle;
  p2m: P2mHandle;
  entry: number;
  done: number;
  iterations: number;
  gate: SharedArrayBuffer;
};
const m = attachMachine(handle);
const cpu = new A64Cpu(new Vcpu(m.mem, p2m), m.mem, { name: "d1", core: MAX_CORE });
cpu.pc = entry;
cpu.setX(2, iterations, 0);
const g = new Int32Array(gate);
Atomics.add(g, 1, 1);
Atomics.wait(g, 0, 0); // start together
while (cpu.pc !== done && cpu.stopped === undefined) cpu.run(10_000);
parentPort!.postMessage({ stopped: cpu.stopped ?? null, icount: cpu.icount });

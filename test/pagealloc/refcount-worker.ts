// Worker for refcount.test.ts: hammer get_page_nr/put_page_nr on the shared frames.
import { parentPort, workerData } from "node:worker_threads";
import { attachMachine, type MachineHandle } from "../../src/pagealloc/index.js";

const { handle, first, n, rounds, dom, gate } = workerData as {
  handle: MachineHandle;
  first: number;
  n: number;
  rounds: number;
  dom: number;
  gate: SharedArrayBuffer;
};
const m = attachMachine(handle);
const g = new Int32Array(gate);
Atomics.add(g, 1, 1);
Atomics.wait(g, 0, 0); // start together
const pdx = m.frames.pdx(first);
let taken = 0;
let refused = 0;
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < n; i++) {
    // Take 3, give back 2: every round leaves one more reference per frame.
    if (m.frames.get_page_nr(pdx + i, dom, 3)) {
      m.frames.put_page_nr(pdx + i, 2);
      taken++;
    } else refused++;
    // A wrong owner never succeeds and leaves the count unchanged.
    if (m.frames.get_page_nr(pdx + i, dom + 100, 1)) refused = -1e9;
  }
}
parentPort!.postMessage({ taken, refused });

/** Worker entry of a simulation run: one emulated vCPU of one guest, reaching memory only through its Vcpu. */
import { parentPort, workerData } from "node:worker_threads";
import { isStage2Fault, type P2mHandle, Vcpu } from "../p2m/index.js";
import { attachMachine, type MachineHandle } from "../pagealloc/index.js";
import { calibrateClock } from "./clock.js";
import { abortRun } from "./control.js";
import { vcpuWords } from "./guest-mem.js";
import { Link } from "./ring.js";
import { type GuestProgram, newTally, type RunParams, runGuest, type Tally } from "./roles.js";

export interface SimWorkerData {
  readonly machine: MachineHandle;
  readonly p2m: P2mHandle;
  readonly tlbBits: number;
  readonly guest: GuestProgram;
  readonly params: RunParams;
  readonly dirBase: number;
  readonly ctl: SharedArrayBuffer;
  readonly doorbell: boolean;
  readonly spinPolls: number;
  readonly peerTimeoutMs: number;
}

export interface SimWorkerResult extends Tally {
  readonly tlb: { misses: number; faults: number; flushes: number; resolved: number };
}

const d = workerData as SimWorkerData;
const clockOffset = calibrateClock();
const t = newTally();
let tlb = { misses: 0, faults: 0, flushes: 0, resolved: 0 };
try {
  const m = attachMachine(d.machine);
  const vcpu = new Vcpu(m.mem, d.p2m, { tlbBits: d.tlbBits });
  tlb = vcpu.stats;
  const link = new Link(vcpu, vcpuWords(vcpu, m.mem), {
    dirBase: d.dirBase,
    guest: d.guest.index,
    guests: d.params.guests,
    doorbell: d.doorbell,
    spinPolls: d.spinPolls,
    peerTimeoutMs: d.peerTimeoutMs,
    ctl: new Int32Array(d.ctl),
    clockOffset,
  });
  runGuest(link, d.guest, d.params, t);
} catch (e) {
  // Set-up failed before runGuest could report (e.g. the shared area is not mapped at all).
  t.status = isStage2Fault(e) ? "fault" : "error";
  t.detail = `set-up: ${e instanceof Error ? e.message : String(e)}`;
  abortRun(new Int32Array(d.ctl));
}
const result: SimWorkerResult = { ...t, tlb: { ...tlb } };
parentPort!.postMessage(result);

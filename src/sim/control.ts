/**
 * The run's control block: a small SharedArrayBuffer between the main thread and the workers for
 * orchestration only (start phases, stop/abort, progress for the progress bar and for timed
 * destroys). Guests never exchange data through it; everything they say to each other goes through
 * the region. Progress words are written by one worker each, on their own 64-byte line.
 */

export const CTL_PHASE = 0;
export const CTL_READY = 1;
/** Set by anyone on a failure: every worker stops at its next check. */
export const CTL_ABORT = 2;
/** Set by the main thread at the end of a timed run: producers close their rings. */
export const CTL_STOP = 3;
const CTL_GUEST0 = 16;
const CTL_GUEST_WORDS = 16;
export const G_PROGRESS = 0;
export const G_DONE = 1;

/** Phases: producers lay out their rings, then readers check them, then traffic. */
export const PHASE_INIT = 0;
export const PHASE_ATTACH = 1;
export const PHASE_GO = 2;

export function controlWords(guests: number): number {
  return CTL_GUEST0 + CTL_GUEST_WORDS * guests;
}

export function guestWord(g: number, w: number): number {
  return CTL_GUEST0 + CTL_GUEST_WORDS * g + w;
}

export function newControl(guests: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(controlWords(guests) * 4));
}

/**
 * Wait (bounded) until the phase reaches `phase` or the run is aborted. Returns false on abort or
 * timeout.
 */
export function waitPhase(ctl: Int32Array, phase: number, timeoutMs: number): boolean {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (Atomics.load(ctl, CTL_ABORT) !== 0) return false;
    const p = Atomics.load(ctl, CTL_PHASE);
    if (p >= phase) return true;
    const left = end - performance.now();
    if (left <= 0) return false;
    Atomics.wait(ctl, CTL_PHASE, p, Math.min(left, 50));
  }
}

export function setPhase(ctl: Int32Array, phase: number): void {
  Atomics.store(ctl, CTL_PHASE, phase);
  Atomics.notify(ctl, CTL_PHASE);
}

export function abortRun(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_ABORT, 1);
  Atomics.notify(ctl, CTL_PHASE);
}

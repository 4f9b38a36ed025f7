/**
 * One monotonic clock for every thread. performance.now() is relative to each thread's own time
 * origin, and timeOrigin + now() was seen to differ by microseconds between workers; process.hrtime
 * reads CLOCK_MONOTONIC, the same in every thread, but allocates an array per call. So each thread
 * measures once how far its performance.now() is from hrtime and then reads now() + offset (ms).
 * now() costs ~60-130 ns here, so ring loops stamp only sampled messages.
 */

function hrtimeMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

/** Offset to add to performance.now() to get CLOCK_MONOTONIC in ms (best of a few tries). */
export function calibrateClock(): number {
  let best = Number.POSITIVE_INFINITY;
  let off = 0;
  for (let i = 0; i < 25; i++) {
    const a = performance.now();
    const h = hrtimeMs();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      off = h - (a + b) / 2;
    }
  }
  return off;
}

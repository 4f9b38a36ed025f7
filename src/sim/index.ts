/** Guest-to-guest traffic over static shared memory, one worker thread per vCPU. */
export { type BaselineOptions, runBaseline } from "./baseline.js";
export { formatSimResult } from "./format.js";
export * from "./layout.js";
export { checksum, payloadShape } from "./payload.js";
export { simulate } from "./simulate.js";
export { buildTestbed, type Testbed, type TestbedBorrower, type TestbedOptions } from "./testbed.js";
export * from "./types.js";

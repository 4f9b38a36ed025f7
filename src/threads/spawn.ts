/**
 * Start a worker thread running a TypeScript module, the same way everywhere (tests, npm start,
 * the CLI): through boot.mjs, which registers tsx inside the worker before importing the entry.
 */
import { Worker } from "node:worker_threads";

const BOOT = new URL("./boot.mjs", import.meta.url);

export function spawnTsWorker(entry: URL, data: Record<string, unknown>): Worker {
  return new Worker(BOOT, { workerData: { ...data, __entry: entry.href } });
}

/** Wait for a worker's first message (its result) and its exit; reject on error or bad exit. */
export function workerResult<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let result: { v: T } | undefined;
    w.once("message", (m: T) => {
      result = { v: m };
    });
    w.once("error", reject);
    w.once("exit", (code) => {
      if (result) resolve(result.v);
      else reject(new Error(`worker exited with code ${code} before reporting`));
    });
  });
}

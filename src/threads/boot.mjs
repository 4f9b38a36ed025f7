// Worker bootstrap. Node 20's worker_threads do not inherit tsx's loader, so every sshm worker
// starts here: register tsx in this thread, then load the TypeScript entry named in workerData.
// Tests, `npm start` and the CLI all start workers through spawn.ts, hence through this file.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.__entry);

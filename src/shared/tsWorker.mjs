// Runs a TypeScript worker module from source (`npm start`, the tests): tsx's loader is
// registered in this thread first, then the module is imported. Node 20 does not apply
// `--import tsx` given in a worker's execArgv, hence this file. Compiled builds (dist/) never
// load it: their workers are JavaScript. See startWorker.ts.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);

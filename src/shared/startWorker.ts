import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const TS_BOOTSTRAP = new URL('./tsWorker.mjs', import.meta.url);

/**
 * Starts a worker thread on a module given by its compiled name (`new URL('./x.js',
 * import.meta.url)`). Compiled (dist/, as the Dockerfile runs OneDoor) that file exists and
 * plain node runs it. From source (tsx, ts-jest) only `x.ts` exists: it is run through tsx's
 * loader (tsWorker.mjs), which also maps the `.js` imports inside it to `.ts` files.
 */
export function startWorker(entry: URL): Worker {
  if (fs.existsSync(fileURLToPath(entry))) return new Worker(entry);
  const source = fileURLToPath(entry).replace(/\.js$/, '.ts');
  if (!fs.existsSync(source)) throw new Error(`startWorker: neither ${fileURLToPath(entry)} nor its .ts source exists`);
  return new Worker(TS_BOOTSTRAP, { workerData: { entry: pathToFileURL(source).href } });
}

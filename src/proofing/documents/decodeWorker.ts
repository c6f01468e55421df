import { parentPort } from 'node:worker_threads';
import { decodeBarcode } from './decodeBarcode.js';

/**
 * A decode worker of createDecodePool.ts: one image at a time, in, barcode text or a reason,
 * out. It says `ready` once its modules are loaded, so that a decode's time limit counts
 * decoding only, not the worker's start.
 */
const port = parentPort;
if (!port) throw new Error('decodeWorker: must run as a worker thread (see createDecodePool.ts)');
port.on('message', (image: Uint8Array) => {
  port.postMessage(decodeBarcode({ image: Buffer.from(image.buffer, image.byteOffset, image.byteLength) }));
});
port.postMessage('ready');

import { decodeBarcode } from './decodeBarcode.js';

/**
 * A decode process of createDecodePool.ts: one image at a time, in, barcode text or a reason,
 * out, over the IPC channel. It says `ready` once its modules are loaded, so that a decode's
 * time limit counts decoding only, not the process's start. It ends with its parent.
 */
if (!process.send) throw new Error('decodeWorker: must run as a child process with IPC (see createDecodePool.ts)');
const send = process.send.bind(process);
process.on('message', (image: Uint8Array) => {
  send(decodeBarcode({ image: Buffer.from(image.buffer, image.byteOffset, image.byteLength) }));
});
process.on('disconnect', () => process.exit(0));
send('ready');

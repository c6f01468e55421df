import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBarcode } from '../../../src/proofing/documents/decodeBarcode.js';
import { defineTarget } from './target.js';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
/** An IHDR chunk of a given size: photos that claim any dimensions. */
const ihdr = (w: number, h: number) => [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255, h >>> 24, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, 8, 2, 0, 0, 0, 0, 0, 0, 0];

export const barcodeBytes = defineTarget({
  name: 'barcode-bytes',
  property: 'when any bytes are given as the photo of a barcode, then the result is the text or a typed reason, never an exception',
  arbitrary: fc.oneof(
    fc.uint8Array({ maxLength: 1024 }),
    fc.tuple(fc.constantFrom(PNG, JPEG), fc.uint8Array({ maxLength: 1024 })).map(([head, rest]) => Uint8Array.from([...head, ...rest])),
    fc.tuple(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 0x7fffffff }), fc.uint8Array({ maxLength: 256 })).map(([w, h, rest]) => Uint8Array.from([...PNG, ...ihdr(w, h), ...rest])),
  ),
  testRuns: 200,
  check(bytes: Uint8Array) {
    const result = decodeBarcode({ image: Buffer.from(bytes) });
    if (result.ok) assert.equal(typeof result.text, 'string');
    else assert.ok(['unsupported_image', 'image_too_large', 'no_barcode'].includes(result.reason), result.reason);
  },
  encode: (bytes: Uint8Array) => Buffer.from(bytes).toString('base64'),
  decode: (stored: unknown) => Uint8Array.from(Buffer.from(String(stored), 'base64')),
});

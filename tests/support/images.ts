/**
 * Hostile and heavy pictures for the photo limits (src/proofing/documents/measureImage.ts):
 * small files that declare, or really have, many pixels.
 */
import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/**
 * A grayscale PNG of this size whose columns are shaded by `shade` (plain grey by default):
 * unfiltered rows, maximally deflated, so the file stays tiny (5000 × 5000 plain grey is
 * 35 KB) while every pixel must be decoded and searched to read it. Written here with zlib
 * (PNG §11: IHDR, IDAT, IEND) because pngjs's encoder takes most of a minute for 25 MP under
 * Jest.
 */
export function greyPng(width: number, height: number, shade: (x: number) => number = () => 200): Buffer {
  const row = Buffer.alloc(width + 1); // filter type 0 (none), then the pixels
  for (let x = 0; x < width; x++) row[x + 1] = shade(x);
  const raw = Buffer.alloc(height * row.length);
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, grayscale, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * 4000 × 4000 (16 MP, the most accepted) of irregular black and white bars in 50 KB:
 * the barcode detector tries every row, so decoding takes seconds (about 3 s on one core),
 * the slowest accepted photo we know of (a plain one decodes in a third of the time).
 */
export function barsPng(): Buffer {
  return greyPng(4000, 4000, (x) => (((x * 7919) >> 4) % 3 === 0 ? 0 : 255));
}

/** `jpeg` (as jpeg-js writes it: one baseline frame) with its frame header claiming this size. */
export function jpegClaiming(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('jpegClaiming: no SOF0 marker');
  out.writeUInt16BE(height, sof + 5);
  out.writeUInt16BE(width, sof + 7);
  return out;
}

import pngjs from 'pngjs';
import { createDecodePool } from '../../../src/proofing/documents/createDecodePool.js';
import { decodeBarcode } from '../../../src/proofing/documents/decodeBarcode.js';
import { MAX_IMAGE_BYTES } from '../../../src/proofing/documents/measureImage.js';
import { readIdDocument as read } from '../../../src/proofing/documents/readIdDocument.js';
import { aamvaPayload, barcodeImage, documentFrontImage, SANDBOX_PEOPLE } from '../../support/aamva.js';

const jane = SANDBOX_PEOPLE[0]!;
const today = new Date('2026-06-01T12:00:00Z');
// Decoded as OneDoor decodes: in a worker thread of the pool.
const decoder = createDecodePool({ size: 1 });
afterAll(() => decoder.close());
const readIdDocument = (opts: { back: Buffer; today: Date }) => read({ ...opts, decoder });

// Every image here goes through the real decoders: pngjs / jpeg-js, then zxing's PDF417 reader.
describe('readIdDocument', () => {
  test('when the back is a PNG of the barcode, then the document is read', async () => {
    const back = await barcodeImage({ text: aamvaPayload(jane) });
    expect(await readIdDocument({ back, today })).toEqual({ ok: true, document: jane });
  });

  test('when the back is a JPEG of the barcode, then the document is read', async () => {
    const back = await barcodeImage({ text: aamvaPayload(jane), format: 'jpeg' });
    expect(back.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await readIdDocument({ back, today })).toEqual({ ok: true, document: jane });
  });

  test.each([90, 180, 270] as const)('when the photo is turned %i degrees, then the document is still read', async (rotate) => {
    const back = await barcodeImage({ text: aamvaPayload(jane), format: 'jpeg', rotate });
    expect(await readIdDocument({ back, today })).toEqual({ ok: true, document: jane });
  });

  test('when the card is a version 08 state ID, then it is read as a state ID', async () => {
    const marcus = SANDBOX_PEOPLE[1]!;
    const back = await barcodeImage({ text: aamvaPayload(marcus, { version: 8 }) });
    expect(await readIdDocument({ back, today })).toEqual({ ok: true, document: marcus });
  });

  test('when the image has no barcode, then the reason is no_barcode', async () => {
    expect(await readIdDocument({ back: documentFrontImage(), today })).toEqual({ ok: false, reason: 'no_barcode' });
  });

  test.each([
    ['a GIF', Buffer.concat([Buffer.from('GIF89a'), Buffer.from([1, 0, 1, 0, 0x80, 0, 0]), Buffer.alloc(64)])],
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n')],
    ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256))],
    ['empty', Buffer.alloc(0)],
    ['a PNG cut short', documentFrontImage().subarray(0, 60)],
    ['a JPEG cut short', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46])],
  ])('when the upload is %s, then the reason is unsupported_image', async (_case, back) => {
    expect(await readIdDocument({ back, today })).toEqual({ ok: false, reason: 'unsupported_image' });
  });

  test('when a PNG claims more than 16 megapixels, then it is refused before any pixels are decoded', async () => {
    const png = Buffer.from(documentFrontImage());
    png.writeUInt32BE(5_000, 16); // IHDR width
    png.writeUInt32BE(5_000, 20); // IHDR height
    expect(decodeBarcode({ image: png })).toEqual({ ok: false, reason: 'image_too_large' });
  });

  test('when the upload is larger than the size limit, then it is refused', async () => {
    const big = Buffer.concat([documentFrontImage(), Buffer.alloc(MAX_IMAGE_BYTES)]);
    expect(decodeBarcode({ image: big })).toEqual({ ok: false, reason: 'image_too_large' });
  });

  test('when the PNG has a transparent background, then the barcode is still found', async () => {
    const opaque = pngjs.PNG.sync.read(await barcodeImage({ text: aamvaPayload(jane) }));
    for (let i = 0; i < opaque.data.length; i += 4) {
      // White becomes transparent black: only the alpha channel tells bars from background.
      if (opaque.data[i]! > 128) opaque.data.fill(0, i, i + 4);
    }
    const back = pngjs.PNG.sync.write(opaque);
    expect(await readIdDocument({ back, today })).toEqual({ ok: true, document: jane });
  });

  test('when the barcode is not an AAMVA document, then the reason is malformed', async () => {
    const back = await barcodeImage({ text: 'https://example.gov/not-a-license' });
    expect(await readIdDocument({ back, today })).toEqual({ ok: false, reason: 'malformed' });
  });

  test('when the license expired before today, then the reason is expired', async () => {
    const lapsed = { ...jane, issueDate: '2018-04-12', expirationDate: '2026-04-12' };
    const back = await barcodeImage({ text: aamvaPayload(lapsed) });
    expect(await readIdDocument({ back, today })).toEqual({ ok: false, reason: 'expired' });
  });

  test('when today is the expiration date, then the document is still valid, and the next day (UTC) it is expired', async () => {
    const back = await barcodeImage({ text: aamvaPayload(jane) });
    expect(await readIdDocument({ back, today: new Date('2031-04-12T23:59:59Z') })).toMatchObject({ ok: true });
    expect(await readIdDocument({ back, today: new Date('2031-04-13T00:00:00Z') })).toEqual({ ok: false, reason: 'expired' });
  });
});

import pngjs from 'pngjs';
import { MAX_IMAGE_BYTES, measureImage } from '../../../src/proofing/documents/measureImage.js';
import { aamvaPayload, barcodeImage, documentFrontImage, SANDBOX_PEOPLE } from '../../support/aamva.js';

/** A PNG signature and IHDR claiming this size, followed by nothing a decoder could use. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 6, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, Buffer.alloc(64)]);
}

const segment = (marker: number, body: Buffer) => Buffer.concat([Buffer.from([0xff, marker]), Buffer.from([(body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
const frame = (marker: number, width: number, height: number) =>
  segment(marker, Buffer.from([8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]));

/** A JPEG's marker segments as a camera writes them (JFIF, Exif, tables), the frames given, then a scan. */
function jpegHeader(frames: Buffer[], opts: { fill?: boolean } = {}): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')),
    // An Exif thumbnail carries its own SOF inside APP1: it is skipped with its segment.
    segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), frame(0xc0, 60000, 60000)])),
    segment(0xdb, Buffer.alloc(65, 1)),
    ...(opts.fill ? [Buffer.from([0xff, 0xff])] : []),
    ...frames,
    segment(0xc4, Buffer.alloc(20, 1)),
    segment(0xda, Buffer.from([3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0])),
    Buffer.alloc(256, 0x55),
    Buffer.from([0xff, 0xd9]),
  ]);
}

describe('measureImage', () => {
  test('when real PNG and JPEG pictures are measured, then their format and size come from the header', async () => {
    const png = await barcodeImage({ text: aamvaPayload(SANDBOX_PEOPLE[0]!) });
    const jpeg = await barcodeImage({ text: aamvaPayload(SANDBOX_PEOPLE[0]!), format: 'jpeg' });
    const { width, height } = pngjs.PNG.sync.read(png);
    expect(measureImage(png)).toEqual({ ok: true, format: 'png', width, height });
    expect(measureImage(jpeg)).toEqual({ ok: true, format: 'jpeg', width, height });
    expect(measureImage(documentFrontImage())).toEqual({ ok: true, format: 'png', width: 258, height: 162 });
  });

  test.each([[4032, 3024], [3024, 4032], [4080, 3072], [4608, 3456], [5312, 2988], [600, 230]])('when a phone photo or a cropped barcode is %i × %i, then it is accepted', (width, height) => {
    expect(measureImage(pngHeader(width, height))).toMatchObject({ ok: true, width, height });
    expect(measureImage(jpegHeader([frame(0xc0, width, height)]))).toMatchObject({ ok: true, format: 'jpeg', width, height });
  });

  test.each([[5000, 5000], [8064, 6048], [4000, 4001], [6001, 100], [100, 6001], [0xffffffff, 0xffffffff]])('when the header claims %i × %i, then it is too large, unread', (width, height) => {
    expect(measureImage(pngHeader(width, height))).toEqual({ ok: false, reason: 'image_too_large' });
    if (width <= 0xffff && height <= 0xffff) expect(measureImage(jpegHeader([frame(0xc2, width, height)]))).toEqual({ ok: false, reason: 'image_too_large' });
  });

  test('when a JPEG declares a small frame and then a huge one before its scan, then the largest counts', () => {
    expect(measureImage(jpegHeader([frame(0xc0, 800, 600), frame(0xc1, 60000, 60000)]))).toEqual({ ok: false, reason: 'image_too_large' });
  });

  test('when fill bytes stand before a marker, then they are skipped as T.81 allows', () => {
    expect(measureImage(jpegHeader([frame(0xc0, 800, 600)], { fill: true }))).toMatchObject({ ok: true, width: 800, height: 600 });
  });

  test.each([
    ['a JPEG whose height is left to a DNL marker', jpegHeader([frame(0xc0, 800, 0)])],
    ['a JPEG with no frame before its scan', jpegHeader([])],
    ['a JPEG cut inside its header', jpegHeader([frame(0xc0, 800, 600)]).subarray(0, 30)],
    ['a JPEG whose segments do not follow each other', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0, 0x12, 0x34]), Buffer.alloc(40)])],
    ['a JPEG segment with a length below 2', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01]), Buffer.alloc(40)])],
    ['a PNG of 0 × 0', pngHeader(0, 0)],
    ['a PNG whose first chunk is not IHDR', Buffer.concat([pngHeader(10, 10).subarray(0, 12), Buffer.from('IDAT'), pngHeader(10, 10).subarray(16)])],
    ['a GIF', Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(64)])],
    ['nothing', Buffer.alloc(0)],
  ])('when the upload is %s, then it is not a supported image', (_case, image) => {
    expect(measureImage(image)).toEqual({ ok: false, reason: 'unsupported_image' });
  });

  test('when the upload is larger than 15 MB, then it is too large, whatever it claims', () => {
    expect(measureImage(Buffer.concat([pngHeader(100, 100), Buffer.alloc(MAX_IMAGE_BYTES)]))).toEqual({ ok: false, reason: 'image_too_large' });
  });
});

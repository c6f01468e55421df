/**
 * What OneDoor accepts as a photo of an identity document, checked from the file's header
 * before a single pixel is decoded (DESIGN.md, "untrusted images are measured before they are
 * decoded"). Decoding cost grows with the pixel count, not the file size: a 32 KB PNG can
 * declare 5000 × 5000 pixels and then cost seconds of CPU. So the limits are on pixels.
 *
 * - A phone photo of a card is at most 12 MP in the camera's standard mode (4032 × 3024 or
 *   4080 × 3072) and 16 MP on older phones (4608 × 3456, 16:9 at 5312 × 2988). A cropped
 *   barcode is far smaller (about 600 × 230 pixels at 3 pixels per module). So 16 MP and
 *   6000 pixels on the longer side cover every real photo; "high resolution" 48–50 MP modes
 *   are refused with a message saying so. Measured: a 12 MP JPEG costs about 1.8 s to read on
 *   one core, a 25 MP PNG about 2 s.
 * - 15 MB bounds the upload (a 12 MP phone JPEG is 3–5 MB).
 */
export const MAX_IMAGE_BYTES = 15 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 16_000_000;
export const MAX_IMAGE_SIDE = 6000;

export type MeasureImageResult =
  | { ok: true; format: 'png' | 'jpeg'; width: number; height: number }
  | { ok: false; reason: 'unsupported_image' | 'image_too_large' };

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * The format (told by the magic bytes, never by a name or content type the client sent) and
 * the dimensions the header declares. Reads at most the header segments: no decompression.
 */
export function measureImage(image: Buffer): MeasureImageResult {
  if (image.length > MAX_IMAGE_BYTES) return { ok: false, reason: 'image_too_large' };
  const format = startsWith(image, PNG_MAGIC) ? 'png' : startsWith(image, JPEG_MAGIC) ? 'jpeg' : undefined;
  const size = format === 'png' ? pngSize(image) : format === 'jpeg' ? jpegSize(image) : undefined;
  if (!format || !size || size.width <= 0 || size.height <= 0) return { ok: false, reason: 'unsupported_image' };
  const { width, height } = size;
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) return { ok: false, reason: 'image_too_large' };
  return { ok: true, format, width, height };
}

/** IHDR is always the first chunk, 13 bytes long: width and height at bytes 16–23 (PNG §11.2.2). */
function pngSize(image: Buffer): { width: number; height: number } | undefined {
  if (image.length < 33 || image.readUInt32BE(8) !== 13 || image.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: image.readUInt32BE(16), height: image.readUInt32BE(20) };
}

/** Start-of-frame markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers that stand alone, without a length: TEM, RST0–7, SOI, EOI (ITU-T T.81 §B.1.1.3). */
const standsAlone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);

/**
 * Walks the marker segments after SOI up to the first scan (SOS), skipping each by its length,
 * and returns the largest frame declared (T.81 §B.2.2: SOFn = length, precision, height,
 * width). A height of 0 (defined later by a DNL marker) or no frame before the scan is refused:
 * the size must be known before decoding.
 */
function jpegSize(image: Buffer): { width: number; height: number } | undefined {
  let width = 0;
  let height = 0;
  let at = 2;
  while (at + 4 <= image.length) {
    if (image[at] !== 0xff) return undefined;
    const marker = image[at + 1]!;
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (standsAlone(marker)) { at += 2; continue; }
    const length = image.readUInt16BE(at + 2);
    if (length < 2) return undefined;
    if (marker === 0xda) return width && height ? { width, height } : undefined;
    if (isStartOfFrame(marker)) {
      if (length < 8 || at + 9 > image.length) return undefined;
      const h = image.readUInt16BE(at + 5);
      const w = image.readUInt16BE(at + 7);
      if (h === 0) return undefined;
      width = Math.max(width, w);
      height = Math.max(height, h);
    }
    at += 2 + length;
  }
  return undefined;
}

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}

import {
  BarcodeFormat,
  BinaryBitmap,
  DecodeHintType,
  HybridBinarizer,
  PDF417Reader,
  RGBLuminanceSource,
} from '@zxing/library';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

export type DecodeBarcodeResult = { ok: true; text: string } | { ok: false; reason: 'unsupported_image' | 'no_barcode' };

/** A 12 MP phone photo is about 4 MB as JPEG; anything far beyond is not a photo of a card. */
export const MAX_IMAGE_BYTES = 15 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 25_000_000;
/** jpeg-js counts its own buffers against this; 25 MP with 4:4:4 sampling fits. */
const MAX_JPEG_MEMORY_MB = 512;

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

const HINTS = new Map<DecodeHintType, unknown>([
  [DecodeHintType.TRY_HARDER, true],
  [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.PDF_417]],
]);

interface Luminance { data: Uint8ClampedArray; width: number; height: number }

/**
 * Finds and decodes the PDF417 barcode in a PNG or JPEG image. The format is told by its
 * magic bytes, never by a file name or content type the client sent; sizes are checked
 * before any pixels are allocated. Decoding is synchronous CPU work: about 0.1 s for a
 * cropped barcode, seconds for a 12-megapixel photo (mostly the pure-JS JPEG decoder).
 */
export async function decodeBarcode(opts: { image: Buffer }): Promise<DecodeBarcodeResult> {
  const { image } = opts;
  if (image.length > MAX_IMAGE_BYTES) return { ok: false, reason: 'unsupported_image' };
  const pixels = readPixels(image);
  if (!pixels) return { ok: false, reason: 'unsupported_image' };
  const text = findPdf417(pixels);
  return text ? { ok: true, text } : { ok: false, reason: 'no_barcode' };
}

function readPixels(image: Buffer): Luminance | undefined {
  if (startsWith(image, PNG_MAGIC)) return readPng(image);
  if (startsWith(image, JPEG_MAGIC)) return readJpeg(image);
  return undefined;
}

function readPng(image: Buffer): Luminance | undefined {
  // IHDR is always the first chunk: width and height at bytes 16–23 (PNG spec §11.2.2).
  if (image.length < 33 || image.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const width = image.readUInt32BE(16);
  const height = image.readUInt32BE(20);
  if (!withinLimits(width, height)) return undefined;
  try {
    const png = pngjs.PNG.sync.read(image);
    return toLuminance(png.data, png.width, png.height);
  } catch {
    return undefined;
  }
}

function readJpeg(image: Buffer): Luminance | undefined {
  try {
    const decoded = jpeg.decode(image, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1_000_000,
      maxMemoryUsageInMB: MAX_JPEG_MEMORY_MB,
    });
    if (!withinLimits(decoded.width, decoded.height)) return undefined;
    return toLuminance(decoded.data, decoded.width, decoded.height);
  } catch {
    return undefined;
  }
}

function withinLimits(width: number, height: number): boolean {
  return width > 0 && height > 0 && width * height <= MAX_IMAGE_PIXELS;
}

/**
 * RGBA → 8-bit luminance, with transparent pixels composited on white: a barcode drawn on a
 * transparent background would otherwise turn into black on black.
 */
function toLuminance(rgba: Uint8Array, width: number, height: number): Luminance {
  const data = new Uint8ClampedArray(width * height);
  for (let i = 0, p = 0; i < data.length; i++, p += 4) {
    // ITU-R BT.601 weights in integer arithmetic.
    const luma = (rgba[p]! * 299 + rgba[p + 1]! * 587 + rgba[p + 2]! * 114) / 1000;
    const alpha = rgba[p + 3]!;
    data[i] = (luma * alpha + 255 * (255 - alpha)) / 255;
  }
  return { data, width, height };
}

/**
 * Phone photos arrive in any orientation. The PDF417 detector itself looks at each image at
 * 0° and at 180° (zxing `pdf417/detector/Detector.detect`), so decoding the image as it came
 * and turned a quarter clockwise covers 0°, 90°, 180° and 270° with two passes, not four.
 */
function findPdf417(image: Luminance): string | undefined {
  return tryDecode(image) ?? tryDecode(rotateClockwise(image));
}

function tryDecode(image: Luminance): string | undefined {
  const source = new RGBLuminanceSource(image.data, image.width, image.height);
  const bitmap = new BinaryBitmap(new HybridBinarizer(source));
  try {
    return new PDF417Reader().decode(bitmap, HINTS).getText() || undefined;
  } catch {
    // NotFound, Format and Checksum exceptions — and whatever else a hostile image provokes
    // in the decoder — all mean the same to the person: take another picture.
    return undefined;
  }
}

function rotateClockwise(image: Luminance): Luminance {
  const { data, width, height } = image;
  const out = new Uint8ClampedArray(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const column = height - 1 - y;
    for (let x = 0; x < width; x++) out[x * height + column] = data[row + x]!;
  }
  return { data: out, width: height, height: width };
}

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}

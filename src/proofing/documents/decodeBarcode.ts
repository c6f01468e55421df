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
import { MAX_IMAGE_PIXELS, measureImage } from './measureImage.js';

/**
 * What reading a barcode from a photo can give. `decode_timeout` and `busy` come from the
 * worker pool (createDecodePool.ts): a decode cut off at its time limit, or no room to queue it.
 */
export type DecodeBarcodeResult =
  | { ok: true; text: string }
  | { ok: false; reason: 'unsupported_image' | 'image_too_large' | 'no_barcode' | 'decode_timeout' | 'busy' };

/** jpeg-js counts its own buffers against this; 16 MP with 4:4:4 sampling fits. */
const MAX_JPEG_MEMORY_MB = 512;

const HINTS = new Map<DecodeHintType, unknown>([
  [DecodeHintType.TRY_HARDER, true],
  [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.PDF_417]],
]);

interface Luminance { data: Uint8ClampedArray; width: number; height: number }

/**
 * Finds and decodes the PDF417 barcode in a PNG or JPEG image. The header is measured
 * (measureImage.ts) before any pixels are allocated. Decoding is synchronous CPU work: about
 * 0.1 s for a cropped barcode, about 2 s for a 12-megapixel photo (mostly the pure-JS JPEG
 * decoder). So it runs in a worker thread (decodeWorker.ts), never on the event loop.
 */
export function decodeBarcode(opts: { image: Buffer }): DecodeBarcodeResult {
  const measured = measureImage(opts.image);
  if (!measured.ok) return measured;
  const pixels = measured.format === 'png' ? readPng(opts.image) : readJpeg(opts.image);
  if (!pixels) return { ok: false, reason: 'unsupported_image' };
  const text = findPdf417(pixels);
  return text ? { ok: true, text } : { ok: false, reason: 'no_barcode' };
}

function readPng(image: Buffer): Luminance | undefined {
  try {
    const png = pngjs.PNG.sync.read(image);
    return toLuminance(png.data, png.width, png.height);
  } catch {
    return undefined;
  }
}

function readJpeg(image: Buffer): Luminance | undefined {
  try {
    // jpeg-js checks every frame it meets against the same limit, including any after the first scan.
    const decoded = jpeg.decode(image, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1_000_000,
      maxMemoryUsageInMB: MAX_JPEG_MEMORY_MB,
    });
    return toLuminance(decoded.data, decoded.width, decoded.height);
  } catch {
    return undefined;
  }
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

import type { BarcodeDecoder } from './createDecodePool.js';
import type { DecodeBarcodeResult } from './decodeBarcode.js';
import { type IdDocument, parseAamva } from './parseAamva.js';

export type ReadIdDocumentResult =
  | { ok: true; document: IdDocument }
  | { ok: false; reason: Extract<DecodeBarcodeResult, { ok: false }>['reason'] | 'malformed' | 'expired' };

/**
 * Reads the identity document from a picture of its back: the PDF417 barcode is decoded (off
 * the event loop, by `decoder`), parsed as AAMVA, and the document must still be valid on
 * `today`. A document is valid through its expiration date; days are compared as calendar
 * dates in UTC.
 */
export async function readIdDocument(opts: { back: Buffer; today: Date; decoder: BarcodeDecoder }): Promise<ReadIdDocumentResult> {
  const decoded = await opts.decoder.decode({ image: opts.back });
  if (!decoded.ok) return decoded;
  const parsed = parseAamva({ text: decoded.text });
  if (!parsed.ok) return parsed;
  const today = opts.today.toISOString().slice(0, 10);
  if (parsed.document.expirationDate < today) return { ok: false, reason: 'expired' };
  return parsed;
}

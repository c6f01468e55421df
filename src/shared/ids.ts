import { createHash, createHmac, randomBytes, randomFillSync, randomInt, timingSafeEqual } from 'node:crypto';

/** A random, URL-safe identifier with `bytes` of entropy. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** A uniformly random string of `length` decimal digits (for codes people type). */
export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += String(randomInt(10));
  return out;
}

// Crockford base32 without I, L, O, U: easy to read aloud and type.
const READABLE = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A random code like `7K2Q-9FXM-P3RT` from an unambiguous alphabet. */
export function randomReadableCode(groups = 3, groupLength = 4): string {
  const parts: string[] = [];
  for (let g = 0; g < groups; g += 1) {
    let part = '';
    for (let i = 0; i < groupLength; i += 1) part += READABLE[randomInt(READABLE.length)];
    parts.push(part);
  }
  return parts.join('-');
}

/**
 * Folds what a person typed into the canonical form of a readable code. NFKC first, so that a
 * code typed on a phone or IME keyboard in full-width forms ('７Ｋ２Ｑ') reads as the same code.
 */
export function normalizeReadableCode(input: string): string {
  return input.normalize('NFKC').toUpperCase().replace(/[^0-9A-Z]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** Whether a folded code (normalizeReadableCode) could be a readable code of `length` characters. */
export function isReadableCode(normalized: string, length: number): boolean {
  return normalized.length === length && [...normalized].every((c) => READABLE.includes(c));
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function hmac(secret: string | Buffer, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}

/** Constant-time comparison of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Bytes per request id (16 base64url characters). */
const REQUEST_ID_BYTES = 12;
const block = Buffer.alloc(REQUEST_ID_BYTES * 256);
let used = block.length;

/**
 * A request id (12 random bytes, base64url): one per HTTP request, so they are cut from a block
 * of random bytes drawn 256 ids at a time instead of one system call each. Not for secrets.
 */
export function requestId(): string {
  if (used === block.length) {
    randomFillSync(block);
    used = 0;
  }
  const id = block.toString('base64url', used, used + REQUEST_ID_BYTES);
  used += REQUEST_ID_BYTES;
  return id;
}

import { createCipheriv, createDecipheriv, type KeyObject, randomBytes, scryptSync } from 'node:crypto';
import { normalizeReadableCode, randomReadableCode } from '../shared/ids.js';
import { KEK_FILE, type Kek, KEY_BYTES, KID_PATTERN } from './kekFile.js';

export { KEK_FILE, type Kek, type KekEntry, type KekReload, loadOrCreateKek, rotateKek } from './kekFile.js';

/**
 * The PII vault: envelope encryption of what identity proofing collects (name, date of birth,
 * SSN, address). NIST SP 800-63A has the CSP keep only what proofing needs and protect what it
 * keeps; DESIGN.md ("Security principles") makes that concrete: AES-256-GCM, keys outside the
 * database.
 *
 * - Each record gets its own random 32-byte data key; the JSON is encrypted under it with
 *   AES-256-GCM and a caller-supplied `aad` (the account id), so a row copied to another
 *   account does not open.
 * - The data key is wrapped (AES-256-GCM again, bound to the kid and the same aad) by the
 *   key-encryption key (KEK), which lives in KEYS_DIR/`proofing-kek.json`, never in the
 *   database: a database dump or backup alone reveals nothing. Rotating the KEK means putting a
 *   new entry first; old entries keep unwrapping, and re-wrapping is 60 bytes per record, not
 *   a re-encryption of the data.
 */

/** Everything base64url. JSON-serializable; store it with `serializeSealed`. */
export interface SealedRecord {
  v: 1;
  /** Which KEK entry wrapped the data key. */
  kid: string;
  /** KEK-wrapped data key: iv (12) ‖ encrypted key (32) ‖ tag (16). */
  wrappedKey: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

/** A sealed value that does not authenticate or is not in the stored format. */
export class VaultError extends Error {
  override name = 'VaultError';
}

const ALG = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = IV_BYTES + KEY_BYTES + TAG_BYTES;

// Domain separation: the three encryptions in this file never accept each other's output.
const recordAad = (aad: string) => Buffer.from(`onedoor/proofing/record/v1\n${aad}`, 'utf8');
const kekWrapAad = (kid: string, aad: string) => Buffer.from(`onedoor/proofing/kek-wrap/v1\n${kid}\n${aad}`, 'utf8');
const personalWrapAad = (aad: string) => Buffer.from(`onedoor/proofing/personal-key-wrap/v1\n${aad}`, 'utf8');

function encrypt(key: KeyObject | Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALG, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** Throws when the tag does not verify (tampering, wrong key or wrong aad). */
function decrypt(key: KeyObject | Buffer, parts: { iv: Buffer; ciphertext: Buffer; tag: Buffer }, aad: Buffer): Buffer {
  const decipher = createDecipheriv(ALG, key, parts.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(parts.tag);
  return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
}

function wrapKey(key: KeyObject | Buffer, dataKey: Buffer, aad: Buffer): Buffer {
  const { iv, ciphertext, tag } = encrypt(key, dataKey, aad);
  return Buffer.concat([iv, ciphertext, tag]);
}

function unwrapKey(key: KeyObject | Buffer, wrapped: Buffer, aad: Buffer): Buffer {
  return decrypt(key, {
    iv: wrapped.subarray(0, IV_BYTES),
    ciphertext: wrapped.subarray(IV_BYTES, IV_BYTES + KEY_BYTES),
    tag: wrapped.subarray(IV_BYTES + KEY_BYTES),
  }, aad);
}

function requireAad(aad: unknown): string {
  // An empty aad would silently unbind the record from its account: a broken contract.
  if (typeof aad !== 'string' || aad.length === 0) throw new TypeError('vault: aad must be a non-empty string (e.g. the account id)');
  return aad;
}

/** Strict base64url: canonical encoding only, so any edit to the stored text is detected. */
function decodeField(value: unknown, field: string, bytes?: number, what = 'sealed record'): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) throw new VaultError(`${what}: "${field}" must be a base64url string`);
  const buf = Buffer.from(value, 'base64url');
  if (buf.toString('base64url') !== value || (bytes !== undefined && buf.length !== bytes) || buf.length === 0) {
    throw new VaultError(`${what}: "${field}" must be ${bytes ?? 'at least 1'} bytes in canonical base64url`);
  }
  return buf;
}

interface DecodedSealed { kid: string; wrappedKey: Buffer; iv: Buffer; ciphertext: Buffer; tag: Buffer }

function decodeSealed(sealed: unknown): DecodedSealed {
  const s = sealed as Partial<Record<keyof SealedRecord, unknown>> | null;
  if (!s || typeof s !== 'object') throw new VaultError('sealed record: must be an object');
  if (s.v !== 1) throw new VaultError('sealed record: "v" must be 1');
  if (typeof s.kid !== 'string' || !KID_PATTERN.test(s.kid)) throw new VaultError('sealed record: "kid" must be a key id');
  return {
    kid: s.kid,
    wrappedKey: decodeField(s.wrappedKey, 'wrappedKey', WRAPPED_BYTES),
    iv: decodeField(s.iv, 'iv', IV_BYTES),
    ciphertext: decodeField(s.ciphertext, 'ciphertext'),
    tag: decodeField(s.tag, 'tag', TAG_BYTES),
  };
}

function unwrapWithKek(kek: Kek, d: DecodedSealed, aad: string): Buffer {
  const find = () => kek.entries.find((e) => e.kid === d.kid);
  // A record re-wrapped by `keys rotate-kek` before this process looked at the file again.
  const entry = find() ?? (kek.reload?.().changed ? find() : undefined);
  // Not secret: kids name keys, they are not keys.
  if (!entry) throw new VaultError(`vault: no KEK entry with kid "${d.kid}" in ${KEK_FILE} (was it removed, or rotated on another node?)`);
  try {
    return unwrapKey(entry.key, d.wrappedKey, kekWrapAad(d.kid, aad));
  } catch (err) {
    throw new VaultError('vault: the wrapped data key did not authenticate (tampered, or wrong aad)', { cause: err });
  }
}

/** Decrypts with the data key, then wipes it. `dataAad` is the record's or the bytes' domain. */
function openWithDataKey(dataKey: Buffer, d: DecodedSealed, dataAad: Buffer): Buffer {
  try {
    return decrypt(dataKey, d, dataAad);
  } catch (err) {
    throw new VaultError('vault: the sealed data did not authenticate (tampered, wrong aad, or a data key from another record)', { cause: err });
  } finally {
    dataKey.fill(0);
  }
}

const openJson = (dataKey: Buffer, d: DecodedSealed, aad: string): unknown => JSON.parse(openWithDataKey(dataKey, d, recordAad(aad)).toString('utf8'));

/** Encrypts under a fresh data key, wrapped by the KEK's first entry and bound to `aad`. */
function sealWithNewKey(kek: Kek, plaintext: Buffer, aad: string, dataAad: Buffer): { kid: string; wrappedKey: Buffer; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const entry = kek.entries[0];
  if (!entry) throw new TypeError('vault: the KEK has no entries');
  const dataKey = randomBytes(KEY_BYTES);
  try {
    return { kid: entry.kid, wrappedKey: wrapKey(entry.key, dataKey, kekWrapAad(entry.kid, aad)), ...encrypt(dataKey, plaintext, dataAad) };
  } finally {
    dataKey.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Records

/**
 * Encrypts `plaintext` (anything JSON can carry; it comes back as JSON.parse gives it, so a
 * Date returns as a string) under a fresh data key wrapped by the KEK's first entry.
 */
export function sealRecord(opts: { kek: Kek; plaintext: unknown; aad: string }): SealedRecord {
  const aad = requireAad(opts.aad);
  const json = JSON.stringify(opts.plaintext);
  if (json === undefined) throw new TypeError('vault: plaintext must be JSON-serializable');
  const { kid, wrappedKey, iv, ciphertext, tag } = sealWithNewKey(opts.kek, Buffer.from(json, 'utf8'), aad, recordAad(aad));
  return { v: 1, kid, wrappedKey: wrappedKey.toString('base64url'), iv: iv.toString('base64url'), ciphertext: ciphertext.toString('base64url'), tag: tag.toString('base64url') };
}

/** Decrypts a sealed record. Throws VaultError on tampering, a wrong aad or an unknown kid. */
export function openRecord(opts: { kek: Kek; sealed: SealedRecord; aad: string }): unknown {
  const aad = requireAad(opts.aad);
  const d = decodeSealed(opts.sealed);
  return openJson(unwrapWithKek(opts.kek, d, aad), d, aad);
}

/**
 * The same record with its data key wrapped by the KEK's first entry (`keys rotate-kek`): only
 * `kid` and `wrappedKey` change (60 bytes), not the ciphertext, so a personal-key wrap of the
 * data key keeps working. A record already under the first entry comes back as it is.
 */
export function rewrapRecord(opts: { kek: Kek; sealed: SealedRecord; aad: string }): SealedRecord {
  const aad = requireAad(opts.aad);
  const entry = opts.kek.entries[0];
  if (!entry) throw new TypeError('vault: the KEK has no entries');
  const d = decodeSealed(opts.sealed);
  if (d.kid === entry.kid) return opts.sealed;
  const dataKey = unwrapWithKek(opts.kek, d, aad);
  try {
    return { ...opts.sealed, kid: entry.kid, wrappedKey: wrapKey(entry.key, dataKey, kekWrapAad(entry.kid, aad)).toString('base64url') };
  } finally {
    dataKey.fill(0);
  }
}

/** One text column's worth: compact JSON with a fixed key order. */
export function serializeSealed(sealed: SealedRecord): string {
  decodeSealed(sealed);
  const { v, kid, wrappedKey, iv, ciphertext, tag } = sealed;
  return JSON.stringify({ v, kid, wrappedKey, iv, ciphertext, tag });
}

/** The inverse of `serializeSealed`; throws VaultError when the text is not a sealed record. */
export function parseSealed(text: string): SealedRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new VaultError('sealed record: not valid JSON', { cause: err });
  }
  decodeSealed(raw);
  const { v, kid, wrappedKey, iv, ciphertext, tag } = raw as SealedRecord;
  return { v, kid, wrappedKey, iv, ciphertext, tag };
}

// ---------------------------------------------------------------------------------------------
// Bytes (photos): the same envelope, packed as binary rather than JSON text, so that a photo
// of several megabytes is not base64-inflated twice: 1 (version) ‖ kid length (1) ‖ kid ‖
// wrappedKey (60) ‖ iv (12) ‖ tag (16) ‖ ciphertext. Its own aad domain: never opens as a record.
const bytesAad = (aad: string) => Buffer.from(`onedoor/proofing/bytes/v1\n${aad}`, 'utf8');

export function sealBytes(opts: { kek: Kek; plaintext: Buffer; aad: string }): Buffer {
  const aad = requireAad(opts.aad);
  const { kid, wrappedKey, iv, ciphertext, tag } = sealWithNewKey(opts.kek, opts.plaintext, aad, bytesAad(aad));
  return Buffer.concat([Buffer.from([1, Buffer.byteLength(kid)]), Buffer.from(kid, 'utf8'), wrappedKey, iv, tag, ciphertext]);
}

/** The parts of what `sealBytes` made; throws VaultError when it is not in that format. */
function decodeBytes(s: Buffer): DecodedSealed {
  const keyAt = 2 + (s[1] ?? 0);
  const [ivAt, tagAt, dataAt] = [keyAt + WRAPPED_BYTES, keyAt + WRAPPED_BYTES + IV_BYTES, keyAt + WRAPPED_BYTES + IV_BYTES + TAG_BYTES];
  const kid = s.toString('utf8', 2, keyAt);
  if (s[0] !== 1 || s.length <= dataAt || !KID_PATTERN.test(kid)) throw new VaultError('sealed bytes: not in the stored format');
  return { kid, wrappedKey: s.subarray(keyAt, ivAt), iv: s.subarray(ivAt, tagAt), tag: s.subarray(tagAt, dataAt), ciphertext: s.subarray(dataAt) };
}

/** Opens what `sealBytes` made. Throws VaultError on tampering, a wrong aad, an unknown kid or another format. */
export function openBytes(opts: { kek: Kek; sealed: Buffer; aad: string }): Buffer {
  const aad = requireAad(opts.aad);
  const d = decodeBytes(opts.sealed);
  return openWithDataKey(unwrapWithKek(opts.kek, d, aad), d, bytesAad(aad));
}

/** The KEK entry that wrapped sealed bytes; throws VaultError when they are not in the stored format. */
export function kidOfBytes(sealed: Buffer): string {
  return decodeBytes(sealed).kid;
}

/** As `rewrapRecord`, for sealed bytes: only the wrapped data key (and its kid) changes. */
export function rewrapBytes(opts: { kek: Kek; sealed: Buffer; aad: string }): Buffer {
  const aad = requireAad(opts.aad);
  const entry = opts.kek.entries[0];
  if (!entry) throw new TypeError('vault: the KEK has no entries');
  const d = decodeBytes(opts.sealed);
  if (d.kid === entry.kid) return opts.sealed;
  const dataKey = unwrapWithKek(opts.kek, d, aad);
  try {
    const wrappedKey = wrapKey(entry.key, dataKey, kekWrapAad(entry.kid, aad));
    return Buffer.concat([Buffer.from([1, Buffer.byteLength(entry.kid)]), Buffer.from(entry.kid, 'utf8'), wrappedKey, d.iv, d.tag, d.ciphertext]);
  } finally {
    dataKey.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Personal key
//
// Why: a person verified at IAL2 who loses every authenticator must repeat identity proofing,
// or go through an abbreviated proofing that confirms the binding to evidence already
// collected (NIST SP 800-63B rev. 3 §6.1.2.3; SP 800-63-4 keeps this under account recovery).
// Login.gov answers it with a "personal key": 16 characters shown once at the end of proofing,
// which re-activates the verified profile after the password that encrypts it is reset, is
// single use, and is replaced by a new one each time it is used.
//
// OneDoor has no password. Someone who loses every passkey can get back into the *account*
// (email + recovery code), but that alone must not bring back an IAL2 profile. The personal
// key is what does, without repeating proofing: the record's data key is wrapped under a key
// derived from it, so the stored wrap is at once the verifier (only the right personal key
// unwraps; scrypt over 80 random bits makes offline guessing hopeless) and a route to the data
// that does not depend on the KEK entry that sealed it. Callers must rate-limit attempts, and
// after a successful use re-seal, issue a new personal key and discard the old wrap.

const PERSONAL_KEY_CHARS = 16;
const SALT_BYTES = 16;
const PERSONAL_PREFIX = 'pk1.';
// scrypt (RFC 7914) with N=2^15, r=8, p=1 uses 128·N·r = 32 MiB, which Node's default maxmem
// refuses, so the limit is raised.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** 4 groups of 4 Crockford base32 characters (80 bits), e.g. `7K2Q-9FXM-P3RT-W4HD`. */
export function createPersonalKey(): string {
  return randomReadableCode(4, 4);
}

/** Whether what a person typed could be a personal key at all (before anything counts it as a try). */
export function isPersonalKeyShape(input: unknown): boolean {
  return normalizePersonalKey(input) !== undefined;
}

/** Folds case, separators and look-alikes (O→0, I/L→1); undefined if it cannot be a key. */
function normalizePersonalKey(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const normalized = normalizeReadableCode(input);
  return normalized.length === PERSONAL_KEY_CHARS && /^[0-9A-HJKMNP-TV-Z]+$/.test(normalized) ? normalized : undefined;
}

function derivePersonalKey(normalized: string, salt: Buffer): Buffer {
  return scryptSync(normalized, salt, KEY_BYTES, SCRYPT);
}

/**
 * Wraps the record's data key under the personal key. Returns `pk1.` + base64url(salt (16) ‖
 * iv (12) ‖ encrypted key (32) ‖ tag (16)), to store next to the sealed record.
 * Synchronous scrypt: about a quarter of a second of CPU, once per proofing.
 */
export function wrapDataKeyWithPersonalKey(opts: { sealed: SealedRecord; kek: Kek; personalKey: string; aad: string }): string {
  const aad = requireAad(opts.aad);
  const normalized = normalizePersonalKey(opts.personalKey);
  if (!normalized) throw new TypeError('vault: personalKey must be a key from createPersonalKey()');
  const d = decodeSealed(opts.sealed);
  const dataKey = unwrapWithKek(opts.kek, d, aad);
  const salt = randomBytes(SALT_BYTES);
  const derived = derivePersonalKey(normalized, salt);
  try {
    return PERSONAL_PREFIX + Buffer.concat([salt, wrapKey(derived, dataKey, personalWrapAad(aad))]).toString('base64url');
  } finally {
    dataKey.fill(0);
    derived.fill(0);
  }
}

/**
 * Opens the record with the personal key instead of the KEK. Undefined when the personal key
 * is wrong (or the wrap is not this account's); throws VaultError when the wrap is not in the
 * stored format or the record itself does not authenticate.
 */
export function openRecordWithPersonalKey(opts: { sealed: SealedRecord; personalKeyWrapped: string; personalKey: string; aad: string }): unknown | undefined {
  const aad = requireAad(opts.aad);
  const d = decodeSealed(opts.sealed);
  const w = opts.personalKeyWrapped;
  if (typeof w !== 'string' || !w.startsWith(PERSONAL_PREFIX)) throw new VaultError('personal key wrap: must start with "pk1."');
  const packed = decodeField(w.slice(PERSONAL_PREFIX.length), 'personalKeyWrapped', SALT_BYTES + WRAPPED_BYTES, 'personal key wrap');
  const normalized = normalizePersonalKey(opts.personalKey);
  if (!normalized) return undefined;
  const derived = derivePersonalKey(normalized, packed.subarray(0, SALT_BYTES));
  let dataKey: Buffer;
  try {
    dataKey = unwrapKey(derived, packed.subarray(SALT_BYTES), personalWrapAad(aad));
  } catch {
    return undefined;
  } finally {
    derived.fill(0);
  }
  return openJson(dataKey, d, aad);
}

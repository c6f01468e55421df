import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createPersonalKey, KEK_FILE, type Kek, loadOrCreateKek, openBytes, openRecord, openRecordWithPersonalKey, parseSealed, rotateKek,
  sealBytes, type SealedRecord, sealRecord, serializeSealed, VaultError, wrapDataKeyWithPersonalKey,
} from '../../../src/proofing/vault.js';

let dir: string;
let keysDir: string;
let kek: Kek;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-vault-'));
  keysDir = path.join(dir, 'keys');
  kek = await loadOrCreateKek({ keysDir });
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const pii = {
  firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1990-12-10', ssn: '123456789',
  address: { street1: '1600 Pennsylvania Ave NW', city: 'Washington', state: 'DC', postalCode: '20500' },
};
const ACCOUNT = 'acct-7f3c2a';

/** Flips one bit of a base64url field's decoded bytes (editing characters may only touch padding bits). */
function flip(value: string, index = 0): string {
  const buf = Buffer.from(value, 'base64url');
  buf[index] = buf[index]! ^ 0x01;
  return buf.toString('base64url');
}

const writeKekFile = (value: unknown) => fs.writeFileSync(path.join(keysDir, KEK_FILE), typeof value === 'string' ? value : JSON.stringify(value));
const goodEntry = () => ({ kid: 'k1', key: Buffer.alloc(32, 7).toString('base64url'), created: '2030-01-01T00:00:00.000Z' });

describe('the KEK file', () => {
  it('when KEYS_DIR has no KEK, then one is generated with mode 0600 as an array of { kid, key, created }', () => {
    const file = path.join(keysDir, KEK_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<Record<string, string>>;
    expect(raw).toHaveLength(1);
    expect(Object.keys(raw[0]!).sort()).toEqual(['created', 'key', 'kid']);
    expect(Buffer.from(raw[0]!.key!, 'base64url')).toHaveLength(32);
    expect(kek.entries.map((e) => e.kid)).toEqual([raw[0]!.kid]);
  });

  it('when the KEK is loaded again, then it is the same key (not regenerated), and onCreate is not called', async () => {
    const messages: string[] = [];
    const again = await loadOrCreateKek({ keysDir, onCreate: (m) => messages.push(m) });
    expect(messages).toEqual([]);
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(openRecord({ kek: again, sealed, aad: ACCOUNT })).toEqual(pii);
  });

  it('when the KEK is generated, then onCreate is told where', async () => {
    const messages: string[] = [];
    await loadOrCreateKek({ keysDir: path.join(dir, 'other'), onCreate: (m) => messages.push(m) });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(KEK_FILE);
  });

  it('when the KEK object is logged or serialized, then no key material shows', () => {
    const key = (JSON.parse(fs.readFileSync(path.join(keysDir, KEK_FILE), 'utf8')) as Array<{ key: string }>)[0]!.key;
    expect(JSON.stringify(kek)).not.toContain(key);
  });

  it.each([
    ['not JSON', '{ nope', /proofing-kek\.json in KEYS_DIR is not valid JSON/],
    ['not an array', { kid: 'k1' }, /proofing-kek\.json: must be a non-empty JSON array/],
    ['an empty array', [], /proofing-kek\.json: must be a non-empty JSON array/],
    ['an entry that is not an object', ['k1'], /proofing-kek\.json: \[0\] must be an object/],
    ['a missing kid', [{ ...goodEntry(), kid: undefined }], /proofing-kek\.json: \[0\]\.kid must be/],
    ['a kid with a space', [{ ...goodEntry(), kid: 'a b' }], /proofing-kek\.json: \[0\]\.kid must be/],
    ['a repeated kid', [goodEntry(), goodEntry()], /proofing-kek\.json: \[1\]\.kid "k1" appears twice/],
    ['a short key', [{ ...goodEntry(), key: Buffer.alloc(16).toString('base64url') }], /proofing-kek\.json: \[0\]\.key must be 32 random bytes in base64url/],
    ['a standard-base64 key', [{ ...goodEntry(), key: `${Buffer.alloc(32, 0xff).toString('base64')}` }], /\[0\]\.key must be/],
    ['a key that is a number', [{ ...goodEntry(), key: 42 }], /\[0\]\.key must be/],
    ['a missing created', [{ ...goodEntry(), created: undefined }], /proofing-kek\.json: \[0\]\.created must be an ISO 8601 date-time/],
    ['a bad second entry', [goodEntry(), { ...goodEntry(), kid: 'k2', created: 'yesterday' }], /\[1\]\.created must be/],
  ])('when the file has %s, then loading fails with a one-line error naming the field', async (_label, content, message) => {
    writeKekFile(content);
    const err = await loadOrCreateKek({ keysDir }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('when the file is malformed, then the error never echoes a key', async () => {
    const secret = Buffer.alloc(31, 9).toString('base64url');
    writeKekFile([{ ...goodEntry(), key: secret }]);
    const err = (await loadOrCreateKek({ keysDir }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain(secret);
  });
});

describe('sealRecord and openRecord', () => {
  it('when a record is sealed and opened with the same aad, then the same value comes back', () => {
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(sealed).toEqual({ v: 1, kid: kek.entries[0]!.kid, wrappedKey: expect.any(String), iv: expect.any(String), ciphertext: expect.any(String), tag: expect.any(String) });
    expect(openRecord({ kek, sealed, aad: ACCOUNT })).toEqual(pii);
  });

  it('when a record is serialized and parsed, then it still opens, and the text is one JSON line', () => {
    const text = serializeSealed(sealRecord({ kek, plaintext: pii, aad: ACCOUNT }));
    expect(text).not.toContain('\n');
    expect(openRecord({ kek, sealed: parseSealed(text), aad: ACCOUNT })).toEqual(pii);
  });

  it('when sealed, then the plaintext never appears in the serialized form', () => {
    const text = serializeSealed(sealRecord({ kek, plaintext: pii, aad: ACCOUNT }));
    for (const needle of ['123456789', '123-45-6789', 'Lovelace', 'Pennsylvania', Buffer.from('123456789').toString('base64url')]) {
      expect(text).not.toContain(needle);
    }
  });

  it('when the same value is sealed twice, then data keys, IVs and ciphertexts all differ', () => {
    const a = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    const b = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.wrappedKey).not.toBe(b.wrappedKey);
    // Each record's own data key: b's wrapped key unwraps fine but cannot open a's ciphertext.
    expect(() => openRecord({ kek, sealed: { ...a, wrappedKey: b.wrappedKey }, aad: ACCOUNT })).toThrow(VaultError);
  });

  it.each(['ciphertext', 'tag', 'iv', 'wrappedKey'] as const)('when the %s is tampered with, then opening throws', (field) => {
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(() => openRecord({ kek, sealed: { ...sealed, [field]: flip(sealed[field]) }, aad: ACCOUNT })).toThrow(VaultError);
    expect(() => openRecord({ kek, sealed: { ...sealed, [field]: flip(sealed[field], 5) }, aad: ACCOUNT })).toThrow(VaultError);
  });

  it('when a stored character is edited even where only padding bits live, then parsing refuses it', () => {
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    const last = sealed.tag.at(-1)!;
    const edited = { ...sealed, tag: sealed.tag.slice(0, -1) + (last === 'A' ? 'B' : 'A') };
    expect(() => openRecord({ kek, sealed: edited, aad: ACCOUNT })).toThrow(VaultError);
  });

  it('when the aad differs (another account), then opening throws', () => {
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(() => openRecord({ kek, sealed, aad: 'acct-other' })).toThrow(VaultError);
  });

  it('when the aad is empty, then sealing refuses', () => {
    expect(() => sealRecord({ kek, plaintext: pii, aad: '' })).toThrow(TypeError);
  });

  it('when the kid is unknown, then opening throws naming the kid', () => {
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(() => openRecord({ kek, sealed: { ...sealed, kid: 'gone' }, aad: ACCOUNT })).toThrow(/kid "gone"/);
  });

  it('when the stored text is not a sealed record, then parseSealed throws a VaultError naming the field', () => {
    const sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    expect(() => parseSealed('nope')).toThrow(VaultError);
    expect(() => parseSealed(JSON.stringify({ ...sealed, v: 2 }))).toThrow(/"v"/);
    expect(() => parseSealed(JSON.stringify({ ...sealed, iv: 'AAAA' }))).toThrow(/"iv"/);
    expect(() => parseSealed(JSON.stringify({ ...sealed, tag: undefined }))).toThrow(/"tag"/);
  });

  it('when the plaintext cannot be JSON, then sealing refuses', () => {
    expect(() => sealRecord({ kek, plaintext: undefined, aad: ACCOUNT })).toThrow(TypeError);
  });

  it('when the KEK is rotated (a new entry put first), then old records still open and new ones use the new entry', async () => {
    const old = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    const file = path.join(keysDir, KEK_FILE);
    const entries = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown[];
    writeKekFile([{ kid: 'newer', key: Buffer.alloc(32, 1).toString('base64url'), created: new Date().toISOString() }, ...entries]);
    const rotated = await loadOrCreateKek({ keysDir });
    expect(rotated.entries.map((e) => e.kid)).toEqual(['newer', old.kid]);
    expect(openRecord({ kek: rotated, sealed: old, aad: ACCOUNT })).toEqual(pii);
    const fresh = sealRecord({ kek: rotated, plaintext: pii, aad: ACCOUNT });
    expect(fresh.kid).toBe('newer');
    expect(openRecord({ kek: rotated, sealed: fresh, aad: ACCOUNT })).toEqual(pii);
    // A KEK that cannot reload its file does not know the new kid, and says which.
    expect(() => openRecord({ kek: { entries: [...kek.entries] }, sealed: fresh, aad: ACCOUNT })).toThrow(/kid "newer"/);
    // A node still holding the KEK it read before the rotation re-reads the file on the kid it
    // does not know (rotated on another node), opens the record and seals with the new entry.
    expect(openRecord({ kek, sealed: fresh, aad: ACCOUNT })).toEqual(pii);
    expect(kek.entries.map((e) => e.kid)).toEqual(['newer', old.kid]);
    expect(sealRecord({ kek, plaintext: pii, aad: ACCOUNT }).kid).toBe('newer');
  });

  it('when the KEK file changes into something unusable, then reload keeps the entries it has and says why, without key material', () => {
    const before = kek.entries.map((e) => e.kid);
    const key = Buffer.alloc(32, 9).toString('base64url');
    writeKekFile(`[{"kid": "half", "key": "${key}"`);
    const r = kek.reload!();
    expect(r).toEqual({ changed: false, problem: `${KEK_FILE} in KEYS_DIR is not valid JSON` });
    expect(kek.entries.map((e) => e.kid)).toEqual(before);
    // Nothing changed since: a stat, and the same entries.
    expect(kek.reload!()).toEqual({ changed: false });
  });

  it('when rotateKek runs, then the new kid is first, the file stays 0600, and old records still open', async () => {
    const old = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    const kid = await rotateKek({ keysDir });
    const rotated = await loadOrCreateKek({ keysDir });
    expect(rotated.entries.map((e) => e.kid)).toEqual([kid, old.kid]);
    expect(fs.statSync(path.join(keysDir, KEK_FILE)).mode & 0o777).toBe(0o600);
    expect(openRecord({ kek: rotated, sealed: old, aad: ACCOUNT })).toEqual(pii);
  });
});

describe('sealBytes and openBytes (photos)', () => {
  const photo = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from('PORTRAIT-OF-ADA'), Buffer.alloc(4096, 0x5a)]);

  it('when bytes are sealed and opened with the same aad, then the same bytes come back, and they are not in the sealed form', () => {
    const sealed = sealBytes({ kek, plaintext: photo, aad: ACCOUNT });
    expect(sealed.includes(Buffer.from('PORTRAIT-OF-ADA'))).toBe(false);
    expect(sealed.length).toBe(photo.length + 2 + kek.entries[0]!.kid.length + 60 + 12 + 16);
    expect(openBytes({ kek, sealed, aad: ACCOUNT }).equals(photo)).toBe(true);
  });

  it('when the aad differs (another account), then opening throws', () => {
    const sealed = sealBytes({ kek, plaintext: photo, aad: ACCOUNT });
    expect(() => openBytes({ kek, sealed, aad: 'acct-other' })).toThrow(VaultError);
  });

  it('when any byte is changed, or the bytes are cut short, then opening throws', () => {
    const sealed = sealBytes({ kek, plaintext: photo, aad: ACCOUNT });
    for (const at of [0, 1, 3, 20, 70, 90, sealed.length - 1]) {
      const edited = Buffer.from(sealed);
      edited[at] = edited[at]! ^ 0x01;
      expect(() => openBytes({ kek, sealed: edited, aad: ACCOUNT })).toThrow(VaultError);
    }
    expect(() => openBytes({ kek, sealed: sealed.subarray(0, sealed.length - 1), aad: ACCOUNT })).toThrow(VaultError);
    expect(() => openBytes({ kek, sealed: Buffer.alloc(0), aad: ACCOUNT })).toThrow(VaultError);
  });

  it('when a sealed record is given as bytes, or bytes as a record, then neither opens (separate domains)', () => {
    const record = sealRecord({ kek, plaintext: photo.toString('base64'), aad: ACCOUNT });
    const asBytes = Buffer.concat([Buffer.from([1, record.kid.length]), Buffer.from(record.kid), ...(['wrappedKey', 'iv', 'tag', 'ciphertext'] as const).map((f) => Buffer.from(record[f], 'base64url'))]);
    expect(() => openBytes({ kek, sealed: asBytes, aad: ACCOUNT })).toThrow(VaultError);
  });

  it('when the KEK is rotated, then bytes sealed before still open', async () => {
    const sealed = sealBytes({ kek, plaintext: photo, aad: ACCOUNT });
    await rotateKek({ keysDir });
    expect(openBytes({ kek: await loadOrCreateKek({ keysDir }), sealed, aad: ACCOUNT }).equals(photo)).toBe(true);
  });
});

describe('personal key', () => {
  let sealed: SealedRecord;
  let personalKey: string;
  let wrapped: string;

  beforeEach(() => {
    sealed = sealRecord({ kek, plaintext: pii, aad: ACCOUNT });
    personalKey = createPersonalKey();
    wrapped = wrapDataKeyWithPersonalKey({ sealed, kek, personalKey, aad: ACCOUNT });
  });

  it('when created, then it is 4 groups of 4 Crockford base32 characters, different each time', () => {
    expect(personalKey).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(createPersonalKey()).not.toBe(personalKey);
  });

  it('when the right personal key is given, then the record opens without the KEK', () => {
    expect(openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped, personalKey, aad: ACCOUNT })).toEqual(pii);
  });

  it('when the person types it in lower case, without dashes, with O for 0 and l for 1, then it still opens', () => {
    const typed = personalKey.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped, personalKey: typed, aad: ACCOUNT })).toEqual(pii);
  });

  it('when a wrong personal key is given, then the answer is undefined', () => {
    let other = createPersonalKey();
    while (other === personalKey) other = createPersonalKey();
    expect(openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped, personalKey: other, aad: ACCOUNT })).toBeUndefined();
    expect(openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped, personalKey: 'too short', aad: ACCOUNT })).toBeUndefined();
    expect(openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped, personalKey: '', aad: ACCOUNT })).toBeUndefined();
  });

  it('when the wrap belongs to another account (aad), then the answer is undefined', () => {
    expect(openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped, personalKey, aad: 'acct-other' })).toBeUndefined();
  });

  it('when the same personal key wraps twice, then the salts differ', () => {
    expect(wrapDataKeyWithPersonalKey({ sealed, kek, personalKey, aad: ACCOUNT })).not.toBe(wrapped);
  });

  it('when the wrap is not in the stored format, then it throws rather than answering "wrong key"', () => {
    expect(() => openRecordWithPersonalKey({ sealed, personalKeyWrapped: 'garbage', personalKey, aad: ACCOUNT })).toThrow(VaultError);
    expect(() => openRecordWithPersonalKey({ sealed, personalKeyWrapped: wrapped.slice(0, -4), personalKey, aad: ACCOUNT })).toThrow(VaultError);
  });

  it('when the record is tampered with, then opening with the right personal key throws', () => {
    expect(() => openRecordWithPersonalKey({ sealed: { ...sealed, ciphertext: flip(sealed.ciphertext) }, personalKeyWrapped: wrapped, personalKey, aad: ACCOUNT })).toThrow(VaultError);
  });

  it('when the personal key does not look like one, then wrapping refuses', () => {
    expect(() => wrapDataKeyWithPersonalKey({ sealed, kek, personalKey: 'hunter2', aad: ACCOUNT })).toThrow(TypeError);
  });

  it('when the personal key and its wrap are serialized, then neither the SSN nor the key appears in the wrap', () => {
    expect(wrapped).toMatch(/^pk1\.[A-Za-z0-9_-]+$/);
    expect(wrapped).not.toContain('123456789');
    expect(wrapped).not.toContain(personalKey.replace(/-/g, ''));
  });
});

import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createVendors } from '../../../src/proofing/vendors/createVendors.js';
import { type PersonRecord, type ProofingVendors, VendorUnavailable } from '../../../src/proofing/vendors/ports.js';
import { clock } from '../../../src/shared/clock.js';

let dir: string;
let outboxDir: string;
let vendors: ProofingVendors;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onedoor-vendors-'));
  outboxDir = path.join(dir, 'outbox');
  vendors = createVendors({ vendor: 'sandbox', outboxDir });
});

afterEach(() => {
  clock.reset();
  fs.rmSync(dir, { recursive: true, force: true });
});

const outbox = () => (fs.existsSync(outboxDir) ? fs.readdirSync(outboxDir).sort() : []);
const image = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);
const person = (ssn: string): PersonRecord => ({
  firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1990-12-10', ssn,
  address: { street1: '1600 Pennsylvania Ave NW', street2: 'Apt 2', city: 'Washington', state: 'DC', postalCode: '20500' },
});
const doc = (documentNumber: string) => ({ front: image, back: image, documentNumber, expirationDate: '2030-01-01' });

describe('sandbox documents', () => {
  it('when the document number has no trigger, then it is ok', async () => {
    await expect(vendors.documents.authenticate(doc('D1234567'))).resolves.toEqual({ ok: true });
  });

  it('when the document number ends in FAIL, then it failed', async () => {
    await expect(vendors.documents.authenticate(doc('D1234567FAIL'))).resolves.toEqual({ ok: false, reason: 'failed' });
    await expect(vendors.documents.authenticate(doc('d1234567fail'))).resolves.toEqual({ ok: false, reason: 'failed' });
  });

  it('when FAIL is not at the end, then it is ok', async () => {
    await expect(vendors.documents.authenticate(doc('FAIL1234567'))).resolves.toEqual({ ok: true });
  });

  it('when the document number ends in TIMEOUT, then the vendor is unavailable', async () => {
    await expect(vendors.documents.authenticate(doc('D1234567TIMEOUT'))).rejects.toBeInstanceOf(VendorUnavailable);
  });
});

describe('sandbox records', () => {
  it.each([
    ['123456789', { ok: true }],
    ['123459999', { ok: false, reason: 'no_match' }],
    ['123458888', { ok: false, reason: 'deceased' }],
    ['999990000', { ok: true }],
  ])('when the SSN is %p, then the result is %p', async (ssn, expected) => {
    await expect(vendors.records.check(person(ssn))).resolves.toEqual(expected);
  });

  it('when the SSN serial is 7777, then the vendor is unavailable', async () => {
    const err = await vendors.records.check(person('123457777')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorUnavailable);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('VendorUnavailable');
  });

  it('when the SSN is not nine digits, then it throws a contract error, not a vendor outcome', async () => {
    await expect(vendors.records.check(person('123-45-6789'))).rejects.toThrow(TypeError);
  });
});

describe('sandbox faces', () => {
  it('when the selfie has no marker, then it matches', async () => {
    await expect(vendors.faces.match({ selfie: image, documentFront: image })).resolves.toEqual({ ok: true });
  });

  it('when NOMATCH is appended to the selfie, then it does not match', async () => {
    const selfie = Buffer.concat([image, Buffer.from('NOMATCH')]);
    await expect(vendors.faces.match({ selfie, documentFront: image })).resolves.toEqual({ ok: false, reason: 'no_match' });
  });

  it('when the selfie contains TIMEOUT, then the vendor is unavailable (even with NOMATCH too)', async () => {
    await expect(vendors.faces.match({ selfie: Buffer.concat([image, Buffer.from('TIMEOUT')]), documentFront: image })).rejects.toBeInstanceOf(VendorUnavailable);
    await expect(vendors.faces.match({ selfie: Buffer.concat([image, Buffer.from('NOMATCHTIMEOUT')]), documentFront: image })).rejects.toBeInstanceOf(VendorUnavailable);
  });

  it('when only the document front contains a marker, then it still matches', async () => {
    await expect(vendors.faces.match({ selfie: image, documentFront: Buffer.from('NOMATCH') })).resolves.toEqual({ ok: true });
  });
});

describe('sandbox sms', () => {
  it('when a text is sent, then one -sms.txt file with To, a blank line and the text appears in the outbox', async () => {
    await vendors.sms.send({ phone: '+12025550142', text: 'Your OneDoor code is 123456' });
    const files = outbox();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}T\d{9}Z-\d{6}-sms\.txt$/);
    expect(fs.readFileSync(path.join(outboxDir, files[0]!), 'utf8')).toBe('To: +12025550142\n\nYour OneDoor code is 123456\n');
    expect(fs.statSync(path.join(outboxDir, files[0]!)).mode & 0o777).toBe(0o600);
  });

  it('when the number ends in 0999, then the gateway is unavailable and nothing is written', async () => {
    await expect(vendors.sms.send({ phone: '+12025550999', text: 'code' })).rejects.toBeInstanceOf(VendorUnavailable);
    expect(outbox()).toEqual([]);
  });

  it('when the number is not E.164, then it throws a contract error and nothing is written', async () => {
    await expect(vendors.sms.send({ phone: '202 555 0142', text: 'code' })).rejects.toThrow(TypeError);
    expect(outbox()).toEqual([]);
  });
});

describe('sandbox letters', () => {
  it('when a letter is sent, then one -letter.txt file with the name, address lines and text appears', async () => {
    await vendors.letters.send({ name: 'Ada Lovelace', address: person('123456789').address, text: 'Your code is ABCD-1234' });
    const files = outbox();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}T\d{9}Z-\d{6}-letter\.txt$/);
    expect(fs.readFileSync(path.join(outboxDir, files[0]!), 'utf8')).toBe(
      'To: Ada Lovelace\n1600 Pennsylvania Ave NW\nApt 2\nWashington, DC 20500\n\nYour code is ABCD-1234\n',
    );
  });

  it('when the address has no second line, then no blank address line is written', async () => {
    const { street2: _omit, ...address } = person('123456789').address;
    await vendors.letters.send({ name: 'Ada Lovelace', address, text: 'Hello' });
    expect(fs.readFileSync(path.join(outboxDir, outbox()[0]!), 'utf8')).toBe('To: Ada Lovelace\n1600 Pennsylvania Ave NW\nWashington, DC 20500\n\nHello\n');
  });
});

describe('sandbox outbox ordering', () => {
  it('when many messages are sent in the same millisecond, then the newest sorts last', async () => {
    // Outbox names use the wall clock (files must sort in the order written, whatever the test clock says).
    const frozen = jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2030-05-06T07:08:09.010Z'));
    try {
      for (let i = 0; i < 12; i += 1) {
        if (i % 3 === 2) await vendors.letters.send({ name: `n${i}`, address: person('123456789').address, text: `m${i}` });
        else await vendors.sms.send({ phone: '+12025550142', text: `m${i}` });
      }
    } finally {
      frozen.mockRestore();
    }
    const files = outbox();
    expect(files).toHaveLength(12);
    expect(new Set(files.map((f) => f.slice(0, 19)))).toEqual(new Set(['20300506T070809010Z']));
    expect(files.map((f) => fs.readFileSync(path.join(outboxDir, f), 'utf8').trim().split('\n').at(-1))).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
  });

  it('when the wall clock moves on between messages, then the later one sorts last, even if the test clock went back', async () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2031-01-01T00:00:00.000Z'));
    clock.set(new Date('2040-01-01T00:00:00.000Z'));
    await vendors.letters.send({ name: 'first', address: person('123456789').address, text: 'first' });
    now.mockReturnValue(Date.parse('2031-01-01T00:00:00.001Z'));
    clock.set(new Date('2020-01-01T00:00:00.000Z'));
    await vendors.sms.send({ phone: '+12025550142', text: 'second' });
    now.mockRestore();
    const files = outbox();
    expect(files[0]).toMatch(/-letter\.txt$/);
    expect(files[1]).toMatch(/-sms\.txt$/);
  });

  it('when no temporary files are left behind, then the outbox holds only messages', async () => {
    await vendors.sms.send({ phone: '+12025550142', text: 'x' });
    expect(fs.readdirSync(outboxDir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('createVendors', () => {
  it('when the vendor is unknown, then it throws naming PROOFING_VENDOR', () => {
    expect(() => createVendors({ vendor: 'acme' as 'sandbox', outboxDir })).toThrow(/PROOFING_VENDOR/);
  });
});

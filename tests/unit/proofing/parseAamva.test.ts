import { type IdDocument, parseAamva } from '../../../src/proofing/documents/parseAamva.js';
import { aamvaPayload, SANDBOX_PEOPLE } from '../../support/aamva.js';

const jane = SANDBOX_PEOPLE[0]!;
const marcus = SANDBOX_PEOPLE[1]!;

/** The version 10 example of the AAMVA DL/ID Card Design Standard (2020), Annex D, dates moved. */
const STANDARD_V10 =
  '@\n\x1e\rANSI 636000100002DL00410278ZV03190008' +
  'DLDAQT64235789\nDCSSAMPLE\nDDEN\nDACMICHAEL\nDDFN\nDADJOHN\nDDGN\nDCUJR\nDCAD\nDCBK\nDCDPH\n' +
  'DBD06062019\nDBB06061986\nDBA12102028\nDBC1\nDAU068 in\nDAYBRO\nDAG2300 WEST BROAD STREET\n' +
  'DAIRICHMOND\nDAJVA\nDAK232690000  \nDCF2424244747474786102204\nDCGUSA\nDCK123456789\nDDAF\n' +
  'DDB06062018\nDDC06062020\nDDD1\r' +
  'ZVZVA01\r';

/**
 * The DL/ID-2000 (version 01) example as it circulates: full name in DAA, dates CCYYMMDD, sex
 * as a letter — and subfile offsets and lengths one byte off.
 */
const STANDARD_V01 =
  '@\n\x1e\rANSI 6360000102DL00390188ZV02270031' +
  'DLDAQ0123456789ABC\nDAAPUBLIC,JOHN,Q\nDAG123 MAIN STREET\nDAIANYTOWN\nDAJVA\nDAK123459999  \n' +
  'DARDM  \nDAS          \nDAT     \nDAU509\nDAW175\nDAYBL \nDAZBR \nDBA20011201\nDBB19761123\nDBCM\nDBD19961201\r' +
  'ZVZVAJURISDICTIONDEFINEDELEMENT\r';

const parsed = (text: string): IdDocument => {
  const result = parseAamva({ text });
  if (!result.ok) throw new Error(`expected a document, got ${result.reason}`);
  return result.document;
};

describe('parseAamva', () => {
  test('when the payload is the standard version 10 example, then every field is read', () => {
    expect(parsed(STANDARD_V10)).toEqual({
      firstName: 'MICHAEL',
      middleName: 'JOHN',
      lastName: 'SAMPLE',
      dateOfBirth: '1986-06-06',
      address: { street1: '2300 WEST BROAD STREET', city: 'RICHMOND', state: 'VA', postalCode: '23269' },
      documentNumber: 'T64235789',
      issueDate: '2019-06-06',
      expirationDate: '2028-12-10',
      issuingJurisdiction: 'VA',
      country: 'USA',
      documentType: 'drivers_license',
      sex: 'M',
    });
  });

  test('when a version 10 driver license is read, then it is the document that was written', () => {
    expect(parsed(aamvaPayload(jane))).toEqual(jane);
  });

  test('when a version 08 ID card is read, then it is a state ID with its second street line and ZIP+4', () => {
    const text = aamvaPayload(marcus, { version: 8 });
    expect(text).toMatch(/^@\n\x1e\rANSI 636003080002ID\d{8}ZV\d{8}IDDAQ/);
    expect(parsed(text)).toEqual(marcus);
    expect(parsed(text)).toMatchObject({ documentType: 'state_id', address: { street2: 'APT 12', postalCode: '21202-1234' } });
  });

  test('when a card has no middle name (DAD NONE) and sex not specified (9), then neither middle name nor M/F is read', () => {
    const river = SANDBOX_PEOPLE[2]!;
    const text = aamvaPayload(river);
    expect(text).toContain('\nDADNONE\n');
    expect(text).toContain('\nDBC9\n');
    const doc = parsed(text);
    expect(doc.middleName).toBeUndefined();
    expect(doc.sex).toBe('X');
    expect(doc).toEqual(river);
  });

  test('when a version 03 card gives first and middle name together in DCT, then they are split by comma or space', () => {
    expect(parsed(aamvaPayload(jane, { version: 3 }))).toEqual(jane);
    const spaced = parsed(aamvaPayload({ ...jane, elements: { DCT: 'JANE QUINN' } }, { version: 3 }));
    expect(spaced).toMatchObject({ firstName: 'JANE', middleName: 'QUINN', lastName: 'SAMPLE' });
  });

  test('when the payload is the version 01 example with the full name in DAA, then names and CCYYMMDD dates are read', () => {
    expect(parsed(STANDARD_V01)).toEqual({
      firstName: 'JOHN',
      middleName: 'Q',
      lastName: 'PUBLIC',
      dateOfBirth: '1976-11-23',
      address: { street1: '123 MAIN STREET', city: 'ANYTOWN', state: 'VA', postalCode: '12345-9999' },
      documentNumber: '0123456789ABC',
      issueDate: '1996-12-01',
      expirationDate: '2001-12-01',
      issuingJurisdiction: 'VA',
      country: 'USA',
      documentType: 'drivers_license',
      sex: 'M',
    });
  });

  test('when a version 01 card is written by the helper (no jurisdiction version), then it reads back', () => {
    const text = aamvaPayload(jane, { version: 1 });
    expect(text).toMatch(/^@\n\x1e\rANSI 6360000102DL0039/);
    expect(parsed(text)).toEqual(jane);
  });

  test('when an old card has file type AAMVA instead of ANSI, then it is read', () => {
    const text = aamvaPayload(marcus, { version: 1 }).replace('ANSI ', 'AAMVA');
    expect(parsed(text)).toEqual(marcus);
  });

  test('when a Canadian card is read, then its dates are CCYYMMDD and its postal code is formatted', () => {
    const ontario: IdDocument = {
      firstName: 'CLAIRE', lastName: 'TREMBLAY', dateOfBirth: '1990-03-15',
      address: { street1: '100 QUEEN ST W', city: 'TORONTO', state: 'ON', postalCode: 'M5H 2N2' },
      documentNumber: 'T1234-56789-00315', issueDate: '2024-03-15', expirationDate: '2029-03-15',
      issuingJurisdiction: 'ON', country: 'CAN', documentType: 'drivers_license', sex: 'F',
    };
    const text = aamvaPayload(ontario);
    expect(text).toContain('\nDBB19900315\n');
    expect(text).toContain('\nDCGCAN');
    expect(parsed(text)).toEqual(ontario);
  });

  test.each([1, 3, -4, 40])('when the DL subfile offset is off by %i bytes, then the subfile is still found', (offsetError) => {
    expect(parsed(aamvaPayload(jane, { offsetError }))).toEqual(jane);
  });

  test('when the designator table itself is unreadable, then the subfile is found by scanning', () => {
    const text = aamvaPayload(jane).replace(/DL\d{8}ZV\d{8}/, 'DL00??0229ZV02700010');
    expect(parsed(text)).toEqual(jane);
  });

  test('when a reader dropped the record separator from the header, then the card is still read', () => {
    expect(parsed(aamvaPayload(jane).replace('@\n\x1e\r', '@\n\r'))).toEqual(jane);
  });

  test('when a street name contains the letters ID or DL, then they are not mistaken for a subfile', () => {
    const middletown = { ...jane, address: { ...jane.address, street1: '9 IDDLE DLDA RD', city: 'MIDDLETOWN' } };
    expect(parsed(aamvaPayload(middletown, { offsetError: 7 }))).toEqual(middletown);
  });

  test('when the stated offset lands on the letters DL or ID at the end of a value, then the real subfile is read', () => {
    for (const [street1, city] of [['1 SADDL', 'RICHMOND'], ['1 MAIN ST', 'MADID']]) {
      const doc = { ...jane, address: { ...jane.address, street1, city } };
      const text = aamvaPayload(doc);
      const inside = text.indexOf(street1 === '1 SADDL' ? 'DL\nDAI' : 'ID\nDAJ');
      // The offset points at letters followed by an element ID, inside the subfile's values.
      const offsetError = inside - text.indexOf('DLDAQ');
      expect(parsed(aamvaPayload(doc, { offsetError }))).toEqual(doc);
    }
  });

  test('when the IIN is not a known issuer, then the issuing jurisdiction is the address state', () => {
    expect(parsed(aamvaPayload({ ...jane, iin: '999999' }))).toMatchObject({ issuingJurisdiction: 'VA', country: 'USA' });
  });

  test('when the date of birth is missing, then the document is malformed', () => {
    expect(parseAamva({ text: aamvaPayload({ ...jane, dateOfBirth: undefined }) })).toEqual({ ok: false, reason: 'malformed' });
  });

  test.each<[string, Record<string, string>]>([
    ['February 30', { DBB: '02301985' }],
    ['month 13', { DBA: '13012031' }],
    ['too few digits', { DBD: '4122023' }],
    ['letters', { DBB: 'APR-1985' }],
  ])('when a date is not a real calendar date (%s), then the document is malformed', (_case, elements) => {
    expect(parseAamva({ text: aamvaPayload({ ...jane, elements }) })).toEqual({ ok: false, reason: 'malformed' });
  });

  test.each<[string, Partial<IdDocument>]>([
    ['family name', { lastName: undefined }],
    ['first name', { firstName: undefined }],
    ['document number', { documentNumber: undefined }],
    ['expiration date', { expirationDate: undefined }],
    ['issue date', { issueDate: undefined }],
    ['address', { address: undefined }],
    ['city', { address: { ...jane.address, city: '' } }],
  ])('when the %s is missing, then the document is malformed', (_field, change) => {
    expect(parseAamva({ text: aamvaPayload({ ...jane, ...change }) })).toEqual({ ok: false, reason: 'malformed' });
  });

  test.each<[string, Record<string, string>]>([
    ['a US ZIP of 4 digits', { DAK: '2321' }],
    ['a country other than USA or Canada', { DCG: 'MEX' }],
    ['a state that is not a 2-letter code', { DAJ: 'VIRGINIA' }],
    ['a birth date after the issue date', { DBB: '01012024' }],
  ])('when the card has %s, then the document is malformed', (_case, elements) => {
    expect(parseAamva({ text: aamvaPayload({ ...jane, elements }) })).toEqual({ ok: false, reason: 'malformed' });
  });

  test.each([
    ['empty', ''],
    ['plain text', 'hello world'],
    ['a URL', 'https://example.gov/verify?id=123'],
    ['a truncated header', '@\n\x1e\rANSI 6360'],
    ['a header without subfiles', '@\n\x1e\rANSI 636000100002DL00410278ZV03190008'],
    ['binary noise', '\u0000\u00ff\u0010@ANSI \u0007'.repeat(20)],
    ['a version 00 header', aamvaPayload(jane).replace('ANSI 63600010', 'ANSI 63600000')],
  ])('when the text is junk (%s), then it is malformed', (_case, text) => {
    expect(parseAamva({ text })).toEqual({ ok: false, reason: 'malformed' });
  });
});

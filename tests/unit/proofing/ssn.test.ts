import { maskSsn, normalizeSsn, validateSsn } from '../../../src/proofing/ssn.js';

describe('normalizeSsn', () => {
  it.each([
    ['123-45-6789'],
    ['123 45 6789'],
    ['123456789'],
    ['  123-45-6789 '],
  ])('when given %p, then it returns nine digits', (input) => {
    expect(normalizeSsn(input)).toBe('123456789');
  });

  it.each([
    [''], ['12345678'], ['1234567890'], ['123-456789'], ['123-45 6789'], ['123.45.6789'], ['12a-45-6789'], ['٣٢١-45-6789'], ['123--45-6789'],
  ])('when given %p, then it returns undefined', (input) => {
    expect(normalizeSsn(input)).toBeUndefined();
  });
});

describe('validateSsn', () => {
  it('when the number is well formed, then it is ok and normalized', () => {
    expect(validateSsn('123-45-6789')).toEqual({ ok: true, ssn: '123456789' });
  });

  it('when the input is not an SSN, then the reason is format', () => {
    expect(validateSsn('12-345-6789')).toEqual({ ok: false, reason: 'format' });
    expect(validateSsn('')).toEqual({ ok: false, reason: 'format' });
  });

  it.each([
    ['000-12-3456', 'invalid_area'],
    ['001-12-3456', true],
    ['665-12-3456', true],
    ['666-12-3456', 'invalid_area'],
    ['667-12-3456', true],
    ['899-12-3456', true],
    ['900-12-3456', 'invalid_area'],
    ['999-12-3456', 'invalid_area'],
  ])('when the area is %p, then the result is %p', (input, expected) => {
    expect(validateSsn(input)).toEqual(expected === true ? { ok: true, ssn: input.replace(/-/g, '') } : { ok: false, reason: expected });
  });

  it('when the group is 00, then the reason is invalid_group; 01 and 99 are ok', () => {
    expect(validateSsn('123-00-4567')).toEqual({ ok: false, reason: 'invalid_group' });
    expect(validateSsn('123-01-4567').ok).toBe(true);
    expect(validateSsn('123-99-4567').ok).toBe(true);
  });

  it('when the serial is 0000, then the reason is invalid_serial; 0001 and 9999 are ok', () => {
    expect(validateSsn('123-45-0000')).toEqual({ ok: false, reason: 'invalid_serial' });
    expect(validateSsn('123-45-0001').ok).toBe(true);
    expect(validateSsn('123-45-9999').ok).toBe(true);
  });

  it('when several parts are invalid, then the area is reported first', () => {
    expect(validateSsn('000-00-0000')).toEqual({ ok: false, reason: 'invalid_area' });
    expect(validateSsn('123-00-0000')).toEqual({ ok: false, reason: 'invalid_group' });
  });
});

describe('maskSsn', () => {
  it('when given an SSN in any accepted format, then only the last four digits show', () => {
    expect(maskSsn('123456789')).toBe('***-**-6789');
    expect(maskSsn('123-45-6789')).toBe('***-**-6789');
    expect(maskSsn('123 45 6789')).toBe('***-**-6789');
  });

  it('when given something that is not an SSN, then nothing of it shows', () => {
    expect(maskSsn('1234567890')).toBe('***-**-****');
    expect(maskSsn('')).toBe('***-**-****');
  });
});

describe('normalizeSsn with what keyboards type', () => {
  test('when the number is typed in full-width digits and hyphens, then it reads the same number', () => {
    expect(normalizeSsn('１２３－４５－６７８９')).toBe('123456789');
    expect(normalizeSsn('１２３４５６７８９')).toBe('123456789');
    expect(validateSsn('１２３　４５　６７８９')).toEqual({ ok: true, ssn: '123456789' });
  });
});

import { parseRepresentation } from '../../../src/delegation/representationInput.js';
import { dayOfAge, statusForEnd } from '../../../src/delegation/representationKinds.js';
import { identityMatchKey, normalizeName } from '../../../src/proofing/identityMatchKey.js';

const NOW = new Date('2026-12-03T00:00:00Z');
const base = {
  kind: 'guardianship',
  representative: { account: 'rep@example.com', given_name: 'Jane', family_name: 'Sample', birthdate: '1985-04-12' },
  represented: { given_name: 'Ada', family_name: 'Ward', birthdate: '1940-02-01' },
  agencies: ['benefits'], scopes: ['email'],
  evidence: { case_number: 'PR-1', court: 'Probate', document_type: 'letters' },
};
const parse = (over: Record<string, unknown>) => parseRepresentation({ ...base, ...over }, { agencies: ['benefits'], now: NOW });
const errorOf = (over: Record<string, unknown>) => { const r = parse(over); return r.ok ? 'ok' : r.error; };

describe('parseRepresentation', () => {
  test('when a guardianship names no end, then it ends at its review a year on', () => {
    const r = parse({});
    expect(r.ok && r.terms.endsAt.toISOString().slice(0, 10)).toBe('2027-12-04');
    expect(r.ok && r.terms.reviewAt?.getTime()).toBe(r.ok && r.terms.endsAt.getTime());
  });

  test('when a parent records a child, then it ends the day the child turns 18, and that is its review date', () => {
    const r = parse({ kind: 'parent', represented: { given_name: 'Kid', family_name: 'Ward', birthdate: '2010-05-20' }, evidence: { document_type: 'birth certificate' } });
    expect(r.ok && r.terms.endsAt.toISOString()).toBe('2028-05-20T00:00:00.000Z');
    expect(r.ok && r.terms.reviewAt?.toISOString()).toBe('2028-05-20T00:00:00.000Z');
    expect(errorOf({ kind: 'parent', represented: { given_name: 'Kid', family_name: 'Ward', birthdate: '2000-05-20' }, evidence: { document_type: 'x' } })).toBe('represented.birthdate: parent ends at 18');
  });

  test.each([
    [{ kind: 'uncle' }, 'kind: must be one of guardianship, power_of_attorney, representative_payee, parent'],
    [{ kind: undefined }, 'kind: must be one of guardianship, power_of_attorney, representative_payee, parent'],
    [{ representative: { ...base.representative, given_name: 'x'.repeat(101) } }, 'representative.given_name: must be at most 100 characters'],
    [{ representative: { ...base.representative, family_name: 'Sam\u0000ple' } }, 'representative.family_name: must not contain control characters'],
    [{ representative: { ...base.representative, family_name: 'Sam\u202eple' } }, 'representative.family_name: must not contain control characters'],
    [{ representative: { ...base.representative, account: undefined } }, 'representative.account: is required'],
    [{ represented: { ...base.represented, birthdate: '1940-02-30' } }, 'represented.birthdate: must be a real date'],
    [{ represented: { ...base.represented, birthdate: '01/02/1940' } }, 'represented.birthdate: must be a date YYYY-MM-DD'],
    [{ represented: { ...base.represented, birthdate: '2999-01-01' } }, 'represented.birthdate: must be a past date'],
    [{ represented: { ...base.represented, nickname: 'A' } }, 'represented.nickname: unknown field'],
    [{ agencies: [] }, 'agencies: must name at least one agency (or "*")'],
    [{ agencies: 'benefits' }, 'agencies: must be an array of client ids'],
    [{ agencies: ['nope'] }, 'agencies[0]: not an agency that accepts guardianship'],
    [{ agencies: Array.from({ length: 51 }, () => 'benefits') }, 'agencies: must name at most 50 agencies'],
    [{ scopes: ['social_security_number'] }, 'scopes[0]: not covered by guardianship'],
    [{ kind: 'representative_payee', scopes: ['offline_access'], evidence: { case_number: 'x', document_type: 'y' } }, 'scopes[0]: not covered by representative_payee'],
    [{ evidence: { document_type: 'letters' } }, 'evidence.case_number: is required for guardianship'],
    [{ evidence: { document_type: 'letters', case_number: 'x', court: 'y', scan: 'base64...' } }, 'evidence.scan: unknown field'],
    [{ ends_at: '2040-01-01' }, 'ends_at: guardianship lasts at most 1830 days'],
    [{ ends_at: '2026-12-03' }, 'ends_at: must be in the future'],
    [{ review_at: '2030-01-01' }, 'review_at: guardianship is reviewed within 366 days'],
    [{ starts_at: '2029-01-01' }, 'starts_at: must be within a year'],
    [{ contact_email: 'not-an-address' }, 'contact_email: must be an email address'],
  ])('when the record is %j, then the error is "%s"', (over, message) => {
    expect(errorOf(over)).toBe(message);
  });

  test('when the input is not an object, then it says so', () => {
    expect(parseRepresentation([], { agencies: [] })).toEqual({ ok: false, error: 'record: must be a JSON object' });
    expect(parseRepresentation('x'.repeat(1e6), { agencies: [] })).toEqual({ ok: false, error: 'record: must be a JSON object' });
  });
});

describe('identityMatchKey', () => {
  test('when names differ only in case, accents, spacing or hyphens, then the key is the same; another birth date or pepper is another key', () => {
    const k = (givenName: string, familyName: string, birthdate = '1985-04-12', pepper = 'p') => identityMatchKey({ pepper, givenName, familyName, birthdate });
    expect(k('José', 'García-López')).toBe(k('JOSE', 'garcia lopez'));
    expect(k(' Jane ', 'Sample')).toBe(k('JANE', 'SAMPLE'));
    expect(k('Jane', 'Sample', '1985-04-13')).not.toBe(k('Jane', 'Sample'));
    expect(k('Jane', 'Sample', '1985-04-12', 'q')).not.toBe(k('Jane', 'Sample'));
    expect(normalizeName("O'Brien")).toBe('O BRIEN');
  });
});

describe('representation kinds', () => {
  test('when a child is born on 29 February, then they come of age on 1 March', () => {
    expect(dayOfAge('2008-02-29', 18).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  test('when an end nobody chose comes, then it is an expiry; otherwise a revocation', () => {
    expect(['expired', 'review_date', 'came_of_age'].map((r) => statusForEnd(r as never))).toEqual(['expired', 'expired', 'expired']);
    expect(['revoked', 'ended_by_source', 'ended_by_principal', 'stepped_down'].map((r) => statusForEnd(r as never))).toEqual(['revoked', 'revoked', 'revoked', 'revoked']);
  });
});

import { aalFromAmr, ialFromProfile, LEVELS, parseVerifiedWithin } from '../../../src/proofing/levels.js';
import { canDo, dependentsOf, nextStep, PROOFING_STEPS } from '../../../src/proofing/steps.js';

describe('levels', () => {
  test('when the level table is read, then it has IAL1, IAL2, AAL1, AAL2 and AAL3 with what each requires', () => {
    expect(LEVELS.map((l) => l.id)).toEqual(['IAL1', 'IAL2', 'AAL1', 'AAL2', 'AAL3']);
    for (const l of LEVELS) expect(l.requires.length).toBeGreaterThan(10);
  });

  test('when a session was authenticated with a synced passkey, then it counts AAL2; device-bound AAL3; a recovery code AAL1', () => {
    expect(aalFromAmr(['pop', 'swk', 'user'])).toBe(2);
    expect(aalFromAmr(['pop', 'hwk', 'user'])).toBe(3);
    expect(aalFromAmr(['otp'])).toBe(1);
    expect(aalFromAmr(['hwk'])).toBe(1); // no user verification recorded
    expect(aalFromAmr(undefined)).toBe(1);
  });

  test('when verified_within is given, then only a day count like 30d is accepted', () => {
    expect(parseVerifiedWithin('30d')).toBe(30 * 86400);
    // Login.gov's other units: weeks, 30-day months, 365-day years.
    expect(parseVerifiedWithin('8w')).toBe(56 * 86400);
    expect(parseVerifiedWithin('18m')).toBe(540 * 86400);
    expect(parseVerifiedWithin('2y')).toBe(730 * 86400);
    for (const bad of ['30', '0d', '0w', '-3d', '30 d', '3D', 'P30D', '1h', 42, undefined]) expect(parseVerifiedWithin(bad)).toBeUndefined();
  });

  test('when a profile is older than verified_within, or lacks a required facial match, then it gives IAL1', () => {
    const now = new Date('2026-11-26T00:00:00Z');
    const verifiedAt = new Date('2026-10-01T00:00:00Z');
    expect(ialFromProfile({ verifiedAt }, { now })).toBe(2);
    expect(ialFromProfile({ verifiedAt }, { now, verifiedWithinSeconds: 30 * 86400 })).toBe(1);
    expect(ialFromProfile({ verifiedAt }, { now, verifiedWithinSeconds: 60 * 86400 })).toBe(2);
    expect(ialFromProfile({ verifiedAt, facialMatch: false }, { now, facialMatchRequired: true })).toBe(1);
    expect(ialFromProfile({}, { now })).toBe(1);
  });
});

describe('proofing steps', () => {
  const plain = { facialMatchRequired: false };
  const facial = { facialMatchRequired: true };

  test('when nothing is done, then the flow starts with consent and nothing else can be done', () => {
    expect(nextStep([], plain)).toBe('consent');
    expect(canDo('document', [], plain)).toBe(false);
    expect(canDo('consent', [], plain)).toBe(true);
  });

  test('when steps are done in order, then the next one follows the table to completion', () => {
    const done: Parameters<typeof nextStep>[0][number][] = [];
    const order: string[] = [];
    for (let s = nextStep(done, plain); s !== 'complete'; s = nextStep(done, plain)) { order.push(s); done.push(s); }
    expect(order).toEqual(['consent', 'document', 'ssn', 'records', 'possession', 'reauth']);
  });

  test('when a facial match is required, then it follows the document and must precede re-authentication', () => {
    expect(nextStep(['consent', 'document'], facial)).toBe('facial_match');
    expect(canDo('reauth', ['consent', 'document', 'ssn', 'records', 'possession'], facial)).toBe(false);
    expect(canDo('reauth', ['consent', 'document', 'ssn', 'records', 'possession'], plain)).toBe(true);
    expect(canDo('facial_match', ['consent', 'document'], plain)).toBe(false);
    expect(PROOFING_STEPS.find((s) => s.id === 'facial_match')!.appliesWhen).toBe('facialMatchRequired');
  });

  test('when a step is redone, then every step built on it, directly or through others, is redone too', () => {
    expect(dependentsOf('document')).toEqual(['facial_match', 'ssn', 'records', 'possession', 'reauth']);
    expect(dependentsOf('records')).toEqual(['possession', 'reauth']);
    expect(dependentsOf('facial_match')).toEqual(['reauth']);
    expect(dependentsOf('reauth')).toEqual([]);
    // The table lists each step after the ones it builds on (dependentsOf reads it in one pass).
    PROOFING_STEPS.forEach((step, i) => { for (const a of step.after) expect(PROOFING_STEPS.findIndex((s) => s.id === a)).toBeLessThan(i); });
  });
});

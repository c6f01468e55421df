import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type IdDocument, parseAamva } from '../../../src/proofing/documents/parseAamva.js';
import { aamvaPayload } from '../../support/aamva.js';
import { defineTarget } from './target.js';

const NO_VALUE = new Set(['NONE', 'UNAVL', 'UNAVAIL', 'UNAVAILABLE']);
const letters = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: min, maxLength: max }).filter((s) => !NO_VALUE.has(s));
const words = (max: number) => fc.array(letters(1, 8), { minLength: 1, maxLength: max }).map((w) => w.join(' '));
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const iso = (from: number, to: number) => fc.date({ min: new Date(Date.UTC(from, 0, 1)), max: new Date(Date.UTC(to, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));

/** A US licence or ID card of any AAMVA version, as aamvaPayload writes it. */
export const generatedLicence = fc.record({
  version: fc.integer({ min: 1, max: 10 }),
  firstName: letters(1, 12), middleName: fc.option(letters(1, 10), { nil: undefined }), lastName: letters(1, 14),
  dob: iso(1920, 2008), issue: iso(2009, 2024), expires: iso(2025, 2035),
  street1: fc.tuple(digits(3), words(3)).map(([n, w]) => `${Number(n) + 1} ${w}`), street2: fc.option(fc.tuple(fc.constant('APT'), digits(2)).map((p) => p.join(' ')), { nil: undefined }),
  city: words(2), state: fc.constantFrom('VA', 'NY', 'MD', 'FL', 'CA', 'TX', 'WA'),
  zip: fc.tuple(digits(5), fc.option(digits(4), { nil: undefined })),
  documentNumber: fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKLMNPRSTUVWXYZ0123456789'), minLength: 4, maxLength: 13 }),
  documentType: fc.constantFrom('drivers_license' as const, 'state_id' as const),
  sex: fc.constantFrom('M' as const, 'F' as const, 'X' as const),
  offsetError: fc.oneof(fc.constant(0), fc.integer({ min: -30, max: 300 })),
}).map((g) => {
  const doc: IdDocument = {
    firstName: g.firstName, ...(g.middleName ? { middleName: g.middleName } : {}), lastName: g.lastName,
    dateOfBirth: g.dob,
    address: { street1: g.street1, ...(g.street2 ? { street2: g.street2 } : {}), city: g.city, state: g.state, postalCode: g.zip[1] && g.zip[1] !== '0000' ? `${g.zip[0]}-${g.zip[1]}` : g.zip[0] },
    documentNumber: g.documentNumber, issueDate: g.issue, expirationDate: g.expires, issuingJurisdiction: g.state, country: 'USA',
    documentType: g.documentType,
    // DL/ID-2000 cards wrote only M or F.
    ...(g.version > 1 || g.sex !== 'X' ? { sex: g.sex } : {}),
  };
  return { version: g.version, offsetError: g.offsetError, doc };
});

export const aamvaRoundTrip = defineTarget({
  name: 'aamva-round-trip',
  property: 'when a licence of any version is written (its stated subfile offset right or off by any amount), then it reads back as the document that was written',
  arbitrary: generatedLicence,
  testRuns: 300,
  check({ version, offsetError, doc }) {
    const result = parseAamva({ text: aamvaPayload(doc, { version, offsetError }) });
    assert.deepEqual(result, { ok: true, document: doc });
  },
});

/** Any text, and real payloads with bytes changed, cut or inserted. */
const damaged = fc.tuple(generatedLicence, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 8 })), { maxLength: 6 }))
  .map(([{ version, doc }, edits]) => edits.reduce((text, [at, cut, put]) => { const i = at % (text.length + 1); return text.slice(0, i) + put + text.slice(i + cut); }, aamvaPayload(doc, { version })));

export const aamvaAnyText = defineTarget({
  name: 'aamva-any-text',
  property: 'when any text is read as an AAMVA payload, then the result is a document with real dates in order or the typed "malformed", never an exception',
  arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), damaged, fc.string({ maxLength: 40 }).map((s) => `@\n\x1e\rANSI 636000100002DL00410278${s}`)),
  testRuns: 400,
  check(text: string) {
    const result = parseAamva({ text });
    if (!result.ok) {
      assert.deepEqual(result, { ok: false, reason: 'malformed' });
      return;
    }
    const d = result.document;
    for (const date of [d.dateOfBirth, d.issueDate, d.expirationDate]) {
      assert.match(date, /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10), date);
    }
    assert.ok(d.dateOfBirth <= d.issueDate && d.issueDate <= d.expirationDate);
    assert.ok(d.firstName && d.lastName && d.documentNumber && d.address.street1 && d.address.city);
    assert.match(d.issuingJurisdiction, /^[A-Z]{2}$/);
  },
});

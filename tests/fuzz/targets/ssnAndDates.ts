import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMemorableDate } from '../../../src/http/parseMemorableDate.js';
import { maskSsn, normalizeSsn, validateSsn } from '../../../src/proofing/ssn.js';
import { defineTarget } from './target.js';

const WIDE = (s: string) => s.replace(/[0-9-]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

export const ssnRules = defineTarget({
  name: 'ssn-rules',
  property: 'when any number is typed as an SSN (any separators, full width), then it is accepted exactly when it has the SSA structure, and its mask shows at most the last four digits',
  arbitrary: fc.oneof(
    fc.tuple(digits(3), digits(2), digits(4), fc.constantFrom('', '-', ' '), fc.boolean()).map(([a, g, s, sep, wide]) => { const t = `${a}${sep}${g}${sep}${s}`; return wide ? WIDE(t) : t; }),
    fc.string({ maxLength: 20 }),
  ),
  testRuns: 500,
  check(input: string) {
    const r = validateSsn(input);
    const n = normalizeSsn(input);
    if (n === undefined) {
      assert.deepEqual(r, { ok: false, reason: 'format' });
      assert.equal(maskSsn(input), '***-**-****');
      return;
    }
    assert.match(n, /^\d{9}$/);
    const area = Number(n.slice(0, 3));
    const valid = area !== 0 && area !== 666 && area < 900 && n.slice(3, 5) !== '00' && n.slice(5) !== '0000';
    assert.equal(r.ok, valid);
    assert.equal(maskSsn(input), `***-**-${n.slice(5)}`);
    assert.equal(normalizeSsn(n), n);
  },
});

export const memorableDate = defineTarget({
  name: 'memorable-date',
  property: 'when any month, day and year are typed (padded or not, full width or not, or any text), then exactly the real days of the calendar are accepted',
  arbitrary: fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9999 }), fc.boolean(), fc.boolean())
      .map(([m, d, y, pad, wide]) => [m, d, y, pad, wide] as const),
    fc.tuple(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), fc.string({ maxLength: 5 })),
  ),
  testRuns: 500,
  check(input: readonly unknown[]) {
    if (typeof input[0] === 'string') {
      const [m, d, y] = input as [string, string, string];
      const r = parseMemorableDate(m, d, y);
      if (r) assert.ok(r.month >= 1 && r.month <= 12 && r.day >= 1 && r.day <= daysIn(r.year, r.month));
      return;
    }
    const [m, d, y, pad, wide] = input as [number, number, number, boolean, boolean];
    const show = (n: number, w: number) => (pad ? String(n).padStart(w, '0') : String(n));
    const parts = [show(m, 2), show(d, 2), String(y).padStart(4, '0')].map((p) => (wide ? WIDE(p) : p)) as [string, string, string];
    const real = m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m);
    assert.deepEqual(parseMemorableDate(...parts), real ? { year: y, month: m, day: d } : undefined);
  },
});

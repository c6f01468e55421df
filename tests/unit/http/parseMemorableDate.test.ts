import { fc, test } from '@fast-check/jest';
import { isoDate, parseMemorableDate } from '../../../src/http/parseMemorableDate.js';

const FULL_WIDTH = (s: string) => s.replace(/[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
// Days in a month, written from the Gregorian rule (not from Date), as the reference.
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;

describe('parseMemorableDate', () => {
  test.each([
    ['4', '28', '1986', '1986-04-28'],
    ['04', '08', '1986', '1986-04-08'],
    ['2', '29', '2000', '2000-02-29'],
    [' 12 ', '31', '1999', '1999-12-31'],
  ])('when given %p/%p/%p, then it is %p', (m, d, y, iso) => {
    expect(isoDate(parseMemorableDate(m, d, y)!)).toBe(iso);
  });

  test.each([
    ['2', '30', '1985'], ['2', '29', '1900'], ['13', '1', '1990'], ['0', '1', '1990'], ['4', '31', '1990'], ['4', '0', '1990'],
    ['', '1', '1990'], ['4', '1', '90'], ['4.', '1', '1990'], ['-1', '1', '1990'], ['٤', '1', '1990'],
  ])('when given %p/%p/%p (no real day), then it is undefined', (m, d, y) => {
    expect(parseMemorableDate(m, d, y)).toBeUndefined();
  });

  test('when the digits are full-width (IME keyboards), then it reads the same date', () => {
    expect(parseMemorableDate('０４', '２８', '１９８６')).toEqual({ year: 1986, month: 4, day: 28 });
  });

  test.prop([fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.boolean(), fc.boolean()])(
    'when given any month, day and year, then it accepts exactly the real days of the calendar, typed either way',
    (y, m, d, pad, wide) => {
      const show = (n: number, w: number) => (pad ? String(n).padStart(w, '0') : String(n));
      const parts = [show(m, 2), show(d, 2), String(y).padStart(4, '0')].map((p) => (wide ? FULL_WIDTH(p) : p)) as [string, string, string];
      const real = m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m);
      expect(parseMemorableDate(...parts)).toEqual(real ? { year: y, month: m, day: d } : undefined);
    },
  );

  test.prop([fc.string(), fc.string(), fc.string()])('when given any strings, then it returns a real date or undefined, never throws', (m, d, y) => {
    const r = parseMemorableDate(m, d, y);
    if (r) expect(r.day).toBeLessThanOrEqual(daysIn(r.year, r.month));
  });
});

import { isoDate, parseMemorableDate } from '../../../src/http/parseMemorableDate.js';

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

  // Every month, day and year, and any text: tests/fuzz/targets/ssnAndDates.ts.
});

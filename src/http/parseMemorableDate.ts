/** A calendar date as a person entered it in a USWDS memorable-date field group. */
export type MemorableDate = { year: number; month: number; day: number };

/**
 * Month, day and year as typed (1–2, 1–2 and 4 digits) → the date, or undefined when the
 * parts are not digits or name no real day (Feb 30, month 13). Folded with NFKC first, so
 * full-width digits from IME keyboards read as the same date. One parser for every form with
 * a date (date of birth, a helper's end date), so they accept and refuse the same things.
 */
export function parseMemorableDate(month: string, day: string, year: string): MemorableDate | undefined {
  const [m, d, y] = [month, day, year].map((v) => (typeof v === 'string' ? v.normalize('NFKC').trim() : ''));
  if (!/^\d{1,2}$/.test(m!) || !/^\d{1,2}$/.test(d!) || !/^\d{4}$/.test(y!)) return undefined;
  const [yn, mn, dn] = [Number(y), Number(m), Number(d)];
  const probe = new Date(Date.UTC(yn, mn - 1, dn));
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear keeps the year as given.
  probe.setUTCFullYear(yn, mn - 1, dn);
  if (probe.getUTCFullYear() !== yn || probe.getUTCMonth() !== mn - 1 || probe.getUTCDate() !== dn) return undefined;
  return { year: yn, month: mn, day: dn };
}

/** '1986-04-28' for a parsed date (years padded to four digits). */
export function isoDate(date: MemorableDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

import { fc, test } from '@fast-check/jest';
import { isReadableCode, normalizeReadableCode, randomReadableCode } from '../../../src/shared/ids.js';

const READABLE = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const code = fc.array(fc.constantFrom(...READABLE), { minLength: 12, maxLength: 12 }).map((cs) => cs.join(''));
const FULL_WIDTH = (c: string) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c);

/** How a person might type one character of a code they read. */
const typed = (c: string) =>
  fc.constantFrom(c, c.toLowerCase(), FULL_WIDTH(c), FULL_WIDTH(c.toLowerCase()), ...(c === '0' ? ['O', 'o'] : c === '1' ? ['I', 'i', 'L', 'l'] : []));
const separator = fc.constantFrom('', '', ' ', '-', '  ', '\u3000', '－', '\t');

describe('readable codes', () => {
  test('when a code is typed in full-width characters, then it reads as the same code', () => {
    expect(normalizeReadableCode('７Ｋ２Ｑ－９ｆｘｍ－Ｐ３ＲＴ')).toBe('7K2Q9FXMP3RT');
  });

  test.prop([code.chain((c) => fc.tuple(fc.constant(c), fc.tuple(...[...c].map((ch) => fc.tuple(typed(ch), separator)))))])(
    'when a code is typed with spaces, dashes, lower case, full width or look-alike letters, then it folds back to the code',
    ([c, parts]) => {
      const input = parts.map(([ch, sep]) => ch + sep).join('');
      expect(normalizeReadableCode(input)).toBe(c);
      expect(isReadableCode(normalizeReadableCode(input), 12)).toBe(true);
    },
  );

  test.prop([fc.string({ unit: 'grapheme' })])('when given any text, then folding is idempotent and yields only code characters', (s) => {
    const once = normalizeReadableCode(s);
    expect(normalizeReadableCode(once)).toBe(once);
    expect(once).toMatch(/^[0-9A-Z]*$/);
  });

  test('when codes are generated, then each is a readable code of its length', () => {
    for (let i = 0; i < 200; i += 1) expect(isReadableCode(normalizeReadableCode(randomReadableCode()), 12)).toBe(true);
  });
});

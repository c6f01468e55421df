import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isReadableCode, normalizeReadableCode } from '../../../src/shared/ids.js';
import { defineTarget } from './target.js';

const READABLE = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const FULL_WIDTH = (c: string) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c);
/** How a person might type one character of a code they read. */
const typed = (c: string) => fc.constantFrom(c, c.toLowerCase(), FULL_WIDTH(c), FULL_WIDTH(c.toLowerCase()), ...(c === '0' ? ['O', 'o'] : c === '1' ? ['I', 'i', 'L', 'l'] : []));
const separator = fc.constantFrom('', '', ' ', '-', '  ', '\u3000', '－', '\t');

export const readableCodeTyped = defineTarget({
  name: 'readable-code-typed',
  property: 'when a code is typed with spaces, dashes, lower case, full width or look-alike letters, then it folds back to the code',
  arbitrary: fc.array(fc.constantFrom(...READABLE), { minLength: 12, maxLength: 12 }).map((cs) => cs.join(''))
    .chain((code) => fc.tuple(fc.constant(code), fc.tuple(...[...code].map((ch) => fc.tuple(typed(ch), separator))))),
  testRuns: 300,
  check([code, parts]: [string, Array<[string, string]>]) {
    const input = parts.map(([ch, sep]) => ch + sep).join('');
    assert.equal(normalizeReadableCode(input), code);
    assert.ok(isReadableCode(normalizeReadableCode(input), 12));
  },
});

export const readableCodeAnyText = defineTarget({
  name: 'readable-code-any-text',
  property: 'when any text is folded as a code, then folding is idempotent and yields only code characters',
  arbitrary: fc.string({ unit: fc.oneof(fc.constant('grapheme'), fc.constant('binary')).chain((u) => fc.string({ unit: u as 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 40 }),
  testRuns: 300,
  check(s: string) {
    const once = normalizeReadableCode(s);
    assert.equal(normalizeReadableCode(once), once);
    assert.match(once, /^[0-9A-Z]*$/);
  },
});

import { isReadableCode, normalizeReadableCode, randomReadableCode } from '../../../src/shared/ids.js';

describe('readable codes', () => {
  test('when a code is typed in full-width characters, then it reads as the same code', () => {
    expect(normalizeReadableCode('７Ｋ２Ｑ－９ｆｘｍ－Ｐ３ＲＴ')).toBe('7K2Q9FXMP3RT');
  });

  // Typed variants and any text: tests/fuzz/targets/codes.ts (run by tests/fuzz/properties.test.ts and npm run fuzz).

  test('when codes are generated, then each is a readable code of its length', () => {
    for (let i = 0; i < 200; i += 1) expect(isReadableCode(normalizeReadableCode(randomReadableCode()), 12)).toBe(true);
  });
});

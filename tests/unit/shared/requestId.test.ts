import { requestId } from '../../../src/shared/ids.js';

test('when request ids are made across several blocks of random bytes, then each is 16 URL-safe characters and none repeats', () => {
  const ids = Array.from({ length: 256 * 3 + 7 }, () => requestId());
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
  expect(new Set(ids).size).toBe(ids.length);
});

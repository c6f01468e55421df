import fs from 'node:fs';
import path from 'node:path';
import { TARGETS } from './targets/index.js';

/**
 * Every input `npm run fuzz` ever found (tests/fixtures/fuzz/*.json), replayed against its
 * target: each was a crash or a broken property once, and must never be again.
 */
const dir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'fuzz');
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('fuzz findings, replayed', () => {
  test('when the fixtures are read, then each names a known target', () => {
    for (const f of fixtures) {
      const { target } = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { target: string };
      expect(TARGETS.map((t) => t.name)).toContain(target);
    }
  });

  for (const f of fixtures) {
    test(`when ${f} is replayed, then its property holds`, async () => {
      const { target: name, input } = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { target: string; input: unknown };
      const target = TARGETS.find((t) => t.name === name)!;
      await target.check(target.decode ? target.decode(input) : input);
    });
  }
});

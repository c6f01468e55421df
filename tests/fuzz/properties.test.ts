import fc from 'fast-check';
import { TARGETS } from './targets/index.js';

/**
 * Every fuzz target as a bounded property test inside `npm test` (its `testRuns` inputs, a
 * fixed seed per run of the suite is fast-check's default: a failure prints the seed and the
 * shrunk input). `npm run fuzz` runs the same targets for longer (docs/developers.md).
 */
describe('properties of parsers and policies', () => {
  for (const target of TARGETS) {
    test(`${target.name}: ${target.property}`, async () => {
      await fc.assert(fc.asyncProperty(target.arbitrary, async (input) => { await target.check(input); }), { numRuns: target.testRuns });
    }, 60_000);
  }
});

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pairwiseSubject, sectorOf } from '../../../src/oidc/pairwise.js';
import { defineTarget } from './target.js';

const clientId = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-:_'), minLength: 1, maxLength: 30 });
const host = fc.tuple(fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([h, p]) => (p ? `${h}:${p}` : h));

export const pairwiseSubjects = defineTarget({
  name: 'pairwise-subjects',
  property: 'when subjects are computed for any accounts and sectors, then they are stable per sector and account, differ across sectors and accounts, and a native app never shares a web sector',
  arbitrary: fc.record({
    salt: fc.string({ minLength: 16, maxLength: 40 }), accounts: fc.uniqueArray(fc.uuid(), { minLength: 2, maxLength: 2 }),
    native: clientId, web: host,
  }),
  testRuns: 300,
  check({ salt, accounts, native, web }) {
    const [a, b] = accounts as [string, string];
    const nativeSector = sectorOf({ clientId: native, applicationType: 'native' });
    // A web client's sector is its redirect host; validateClientFile refuses the host `native-app`.
    const webSector = sectorOf({ clientId: 'web', sectorIdentifier: web, applicationType: 'web' });
    assert.notEqual(nativeSector, webSector);
    assert.equal(pairwiseSubject(salt, webSector, a), pairwiseSubject(salt, webSector, a));
    assert.notEqual(pairwiseSubject(salt, webSector, a), pairwiseSubject(salt, nativeSector, a));
    assert.notEqual(pairwiseSubject(salt, webSector, a), pairwiseSubject(salt, webSector, b));
    // Account ids are UUIDs (no "|"), so "sector|account" splits one way only.
    assert.ok(!a.includes('|') && !b.includes('|'));
  },
});

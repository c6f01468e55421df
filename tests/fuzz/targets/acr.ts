import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ACR_TABLE, type AchievedAssurance, chooseAcr, DEFAULT_ACR, knownAcrValues, satisfies } from '../../../src/oidc/acr.js';
import { defineTarget } from './target.js';

const value = fc.oneof(fc.constantFrom(...Object.keys(ACR_TABLE)), fc.string({ maxLength: 20 }).filter((s) => !s.includes(' ')));
const achieved: fc.Arbitrary<AchievedAssurance> = fc.record({
  ial: fc.constantFrom(1 as const, 2 as const), aal: fc.constantFrom(1 as const, 2 as const, 3 as const), phishingResistant: fc.boolean(), facialMatch: fc.boolean(),
});

export const acrResolution = defineTarget({
  name: 'acr-resolution',
  property: 'when any acr_values are asked and any assurance was met, then the acr reported is one that was asked (or the IAL1 default) and that the session met',
  arbitrary: fc.tuple(fc.option(fc.array(value, { maxLength: 6 }).map((vs) => vs.join(' ')), { nil: undefined }), achieved),
  testRuns: 500,
  check([requested, got]: [string | undefined, AchievedAssurance]) {
    const acr = chooseAcr(requested, got);
    const asked = knownAcrValues(requested);
    assert.ok(acr === DEFAULT_ACR || asked.includes(acr), `${acr} was not asked for`);
    // Never stronger than what was met.
    assert.ok(satisfies(ACR_TABLE[acr]!, got), `${acr} not met`);
    // Never weaker than an asked value that was met, on the identity level.
    const metIal = Math.max(1, ...asked.filter((v) => satisfies(ACR_TABLE[v]!, got)).map((v) => ACR_TABLE[v]!.ial ?? 1));
    assert.equal(ACR_TABLE[acr]!.ial ?? 1, metIal);
  },
});

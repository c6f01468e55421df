import { ACR_TABLE, ACR_VALUES_SUPPORTED, chooseAcr, requirementOf, satisfies } from '../../../src/oidc/acr.js';

const ial1aal2 = { ial: 1, aal: 2, phishingResistant: true } as const;
const ial2aal2 = { ial: 2, aal: 2, phishingResistant: true } as const;
const ial2aal3 = { ial: 2, aal: 3, phishingResistant: true } as const;

describe('acr values', () => {
  test("when discovery lists acr values, then OneDoor's and Login.gov's from DESIGN.md are all there", () => {
    for (const v of ['urn:onedoor:ial:1', 'urn:onedoor:ial:2', 'urn:onedoor:aal:2', 'urn:onedoor:aal:3', 'urn:acr.login.gov:auth-only', 'urn:acr.login.gov:verified',
      'http://idmanagement.gov/ns/assurance/ial/1', 'http://idmanagement.gov/ns/assurance/ial/2', 'http://idmanagement.gov/ns/assurance/aal/2',
      'http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true', 'http://idmanagement.gov/ns/assurance/aal/3']) {
      expect(ACR_VALUES_SUPPORTED).toContain(v);
    }
  });

  test('when Login.gov and OneDoor values name the same level, then they ask for the same thing', () => {
    expect(ACR_TABLE['urn:acr.login.gov:verified']).toEqual(ACR_TABLE['urn:onedoor:ial:2']);
    expect(ACR_TABLE['http://idmanagement.gov/ns/assurance/ial/2']).toEqual(ACR_TABLE['urn:onedoor:ial:2']);
    expect(ACR_TABLE['urn:acr.login.gov:auth-only']).toEqual(ACR_TABLE['urn:onedoor:ial:1']);
    expect(ACR_TABLE['http://idmanagement.gov/ns/assurance/aal/3']).toEqual(ACR_TABLE['urn:onedoor:aal:3']);
  });

  test('when several values are requested, then the requirement is the strictest on each dimension and unknown values are ignored', () => {
    expect(requirementOf('urn:acr.login.gov:auth-only http://idmanagement.gov/ns/assurance/aal/3 made:up')).toEqual({ ial: 1, aal: 3, phishingResistant: true });
    expect(requirementOf('urn:acr.login.gov:verified-facial-match-required urn:onedoor:aal:2')).toEqual({ ial: 2, aal: 2, facialMatch: true });
    expect(requirementOf('nothing:known')).toEqual({});
    expect(requirementOf(undefined)).toEqual({});
  });

  test('when choosing the acr to report, then it is the strongest requested value met, never one not met', () => {
    expect(chooseAcr('urn:acr.login.gov:auth-only urn:acr.login.gov:verified', ial1aal2)).toBe('urn:acr.login.gov:auth-only');
    expect(chooseAcr('urn:acr.login.gov:auth-only urn:acr.login.gov:verified', ial2aal2)).toBe('urn:acr.login.gov:verified');
    expect(chooseAcr('urn:acr.login.gov:verified urn:acr.login.gov:auth-only', ial2aal2)).toBe('urn:acr.login.gov:verified');
    expect(chooseAcr('urn:onedoor:aal:3', ial2aal2)).toBe('urn:onedoor:ial:1');
    expect(chooseAcr('urn:onedoor:aal:3', ial2aal3)).toBe('urn:onedoor:aal:3');
    expect(chooseAcr(undefined, ial2aal3)).toBe('urn:onedoor:ial:1');
    expect(chooseAcr('http://idmanagement.gov/ns/assurance/ial/2 urn:onedoor:aal:3', ial2aal3)).toBe('http://idmanagement.gov/ns/assurance/ial/2');
  });

  test('when a requirement names a facial match, then only a profile verified with one satisfies it', () => {
    const req = ACR_TABLE['urn:acr.login.gov:verified-facial-match-required']!;
    expect(satisfies(req, ial2aal2)).toBe(false);
    expect(satisfies(req, { ...ial2aal2, facialMatch: true })).toBe(true);
  });
});

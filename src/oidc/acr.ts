/**
 * Assurance values an agency may put in `acr_values`, and what each asks for. OneDoor's own
 * values and Login.gov's are both accepted so that an agency integrated with Login.gov can
 * switch by changing its issuer. Unknown values are ignored (OIDC Core §3.1.2.1).
 */
export interface AssuranceRequirement {
  ial?: 1 | 2;
  aal?: 1 | 2 | 3;
  phishingResistant?: boolean;
}

export const ACR_TABLE: Record<string, AssuranceRequirement> = {
  'urn:onedoor:ial:1': { ial: 1 },
  'urn:onedoor:ial:2': { ial: 2 },
  'urn:onedoor:aal:2': { aal: 2 },
  'urn:onedoor:aal:3': { aal: 3, phishingResistant: true },
  'urn:acr.login.gov:auth-only': { ial: 1 },
  'urn:acr.login.gov:verified': { ial: 2 },
  'http://idmanagement.gov/ns/assurance/ial/1': { ial: 1 },
  'http://idmanagement.gov/ns/assurance/ial/2': { ial: 2 },
  'http://idmanagement.gov/ns/assurance/aal/2': { aal: 2 },
  'http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true': { aal: 2, phishingResistant: true },
  'http://idmanagement.gov/ns/assurance/aal/3': { aal: 3, phishingResistant: true },
};

export const ACR_VALUES_SUPPORTED = Object.keys(ACR_TABLE);

export const DEFAULT_ACR = 'urn:onedoor:ial:1';

/** What the authentication behind a session achieved. */
export interface AchievedAssurance {
  ial: 1 | 2;
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
}

export function satisfies(req: AssuranceRequirement, got: AchievedAssurance): boolean {
  if (req.ial && got.ial < req.ial) return false;
  if (req.aal && got.aal < req.aal) return false;
  if (req.phishingResistant && !got.phishingResistant) return false;
  return true;
}

/**
 * The `acr` to report: of the requested values OneDoor knows, the first one the session
 * satisfies; with none requested (or none known), OneDoor's value for the level met. Never
 * a value the session does not satisfy.
 */
export function chooseAcr(requested: string | undefined, got: AchievedAssurance): string {
  const known = (requested ?? '').split(' ').filter((v) => v in ACR_TABLE);
  const met = known.find((v) => satisfies(ACR_TABLE[v]!, got));
  if (met) return met;
  return got.ial >= 2 ? 'urn:onedoor:ial:2' : DEFAULT_ACR;
}

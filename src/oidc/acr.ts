/**
 * Assurance values an agency may put in `acr_values`, and what each asks for. OneDoor's own
 * values and Login.gov's are both accepted so that an agency integrated with Login.gov can
 * switch by changing its issuer. Unknown values are ignored (OIDC Core §3.1.2.1).
 */
export interface AssuranceRequirement {
  ial?: 1 | 2;
  aal?: 1 | 2 | 3;
  phishingResistant?: boolean;
  /** Identity proofing must have included a facial match against the document portrait. */
  facialMatch?: boolean;
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
  'urn:onedoor:ial:2:facial-match': { ial: 2, facialMatch: true },
  'urn:acr.login.gov:verified-facial-match-required': { ial: 2, facialMatch: true },
  'urn:acr.login.gov:verified-facial-match-preferred': { ial: 2 },
  // Login.gov's default service level ("authenticated with a second factor"): a passkey with user
  // verification is that and more.
  'urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo': { aal: 2 },
  // Login.gov's deprecated levels of assurance, still sent by older integrations.
  'http://idmanagement.gov/ns/assurance/loa/1': { ial: 1 },
  'http://idmanagement.gov/ns/assurance/loa/3': { ial: 2 },
};

/**
 * Login.gov values OneDoor deliberately does not offer. Asking for one is refused with
 * `invalid_request` before anyone signs in: ignoring it, as unknown values are, would hand the
 * agency a weaker authentication than it required.
 */
export const UNSUPPORTED_ACR: Readonly<Record<string, string>> = {
  'http://idmanagement.gov/ns/assurance/aal/2?hspd12=true': 'PIV/CAC (HSPD-12) authentication is not offered by OneDoor',
};

export const ACR_VALUES_SUPPORTED = Object.keys(ACR_TABLE);

export const DEFAULT_ACR = 'urn:onedoor:ial:1';

/** What the authentication behind a session achieved. */
export interface AchievedAssurance {
  ial: 1 | 2;
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
  facialMatch?: boolean;
}

export function satisfies(req: AssuranceRequirement, got: AchievedAssurance): boolean {
  if (req.ial && got.ial < req.ial) return false;
  if (req.aal && got.aal < req.aal) return false;
  if (req.phishingResistant && !got.phishingResistant) return false;
  if (req.facialMatch && !got.facialMatch) return false;
  return true;
}

/** The known values of an `acr_values` string, in the order given. */
export function knownAcrValues(requested: string | undefined): string[] {
  return (requested ?? '').split(' ').filter((v) => Object.hasOwn(ACR_TABLE, v));
}

/**
 * What an authorization request asks for: every known value counts, the strictest wins on
 * each dimension (as Login.gov combines its component values).
 */
export function requirementOf(requested: string | undefined): AssuranceRequirement {
  const req: AssuranceRequirement = {};
  for (const v of knownAcrValues(requested)) {
    const r = ACR_TABLE[v]!;
    if (r.ial && r.ial > (req.ial ?? 0)) req.ial = r.ial;
    if (r.aal && r.aal > (req.aal ?? 0)) req.aal = r.aal;
    if (r.phishingResistant) req.phishingResistant = true;
    if (r.facialMatch) req.facialMatch = true;
  }
  return req;
}

function strength(v: string): number {
  const r = ACR_TABLE[v]!;
  return (r.ial ?? 1) * 100 + (r.facialMatch ? 50 : 0) + (r.aal ?? 0) * 10 + (r.phishingResistant ? 1 : 0);
}

/**
 * The `acr` to report: of the requested values OneDoor knows and the session satisfies, the
 * strongest (identity level first); with none requested (or none known), OneDoor's IAL1 value.
 * Never a value the session does not satisfy.
 */
export function chooseAcr(requested: string | undefined, got: AchievedAssurance): string {
  const met = knownAcrValues(requested).filter((v) => satisfies(ACR_TABLE[v]!, got));
  if (met.length === 0) return DEFAULT_ACR;
  return met.reduce((best, v) => (strength(v) > strength(best) ? v : best));
}

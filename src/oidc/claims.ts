/**
 * What each scope releases, as data. Names follow Login.gov so that an agency integrated there
 * keeps its code. Identity data (the IAL2 scopes) is released only when the authorization
 * reached IAL2 and only to clients registered with `max_ial: 2`.
 */
export const SCOPE_CLAIMS: Record<string, readonly string[]> = {
  // acr, amr and auth_time describe the authentication: always in the ID token (as Login.gov).
  openid: ['sub', 'acr', 'amr', 'auth_time', 'ial', 'aal', 'act', 'delegation'],
  email: ['email', 'email_verified'],
  all_emails: ['all_emails'],
  'profile:verified_at': ['verified_at'],
  'profile:name': ['given_name', 'family_name'],
  'profile:birthdate': ['birthdate'],
  profile: ['given_name', 'family_name', 'birthdate', 'verified_at'],
  address: ['address'],
  phone: ['phone', 'phone_verified'],
  social_security_number: ['social_security_number'],
  locale: ['locale'],
};

/**
 * Login.gov scopes OneDoor deliberately does not offer (PIV/CAC certificates): asking for one is
 * `invalid_scope`, so an agency that relies on it learns at once instead of getting less.
 */
export const UNSUPPORTED_SCOPES: Readonly<Record<string, string>> = {
  x509: 'PIV/CAC certificates (x509 scopes) are not offered by OneDoor',
  'x509:issuer': 'PIV/CAC certificates (x509 scopes) are not offered by OneDoor',
  'x509:presented': 'PIV/CAC certificates (x509 scopes) are not offered by OneDoor',
  'x509:subject': 'PIV/CAC certificates (x509 scopes) are not offered by OneDoor',
};

/** Scopes that release verified identity data: only for clients with `max_ial: 2`. */
export const IAL2_SCOPES: readonly string[] = ['profile:name', 'profile:birthdate', 'profile', 'address', 'phone', 'social_security_number'];

/** Claims that come from the verified profile (decrypted only when one of them is asked for). */
export const IDENTITY_CLAIMS: readonly string[] = ['given_name', 'family_name', 'birthdate', 'address', 'phone', 'phone_verified', 'social_security_number', 'verified_claims'];

/** Scopes OneDoor offers (discovery `scopes_supported`). */
export const SUPPORTED_SCOPES = ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')];

/** The scopes a client may ask for, from its registered `max_ial`. */
export function scopesForMaxIal(maxIal: number): string[] {
  return SUPPORTED_SCOPES.filter((s) => maxIal >= 2 || !IAL2_SCOPES.includes(s));
}

/** Message-catalog key that says, in plain words, what a scope releases (consent page). */
export function scopeDescriptionKey(scope: string): string | undefined {
  return SUPPORTED_SCOPES.includes(scope) ? `consent.scope.${scope.replace(':', '_')}` : undefined;
}

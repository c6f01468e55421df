/**
 * What each scope releases, as data. Names follow Login.gov where it has them so that an
 * agency integrated there keeps its code; the identity-proofing scopes join this table.
 */
export const SCOPE_CLAIMS: Record<string, readonly string[]> = {
  // acr, amr and auth_time describe the authentication: always in the ID token (Login.gov does the same).
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  email: ['email', 'email_verified'],
  all_emails: ['all_emails'],
};

/** Scopes OneDoor offers (discovery `scopes_supported`). */
export const SUPPORTED_SCOPES = ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')];

/** Message-catalog key that says, in plain words, what a scope releases (consent page). */
export function scopeDescriptionKey(scope: string): string | undefined {
  return ['openid', 'email', 'all_emails', 'offline_access'].includes(scope) ? `consent.scope.${scope}` : undefined;
}

import type { Delegation } from '../../entities/index.js';

/**
 * The rules of delegation, as data. A delegation is always time-bound (NL DigiD Machtigen and
 * FI Suomi.fi mandates are too), never nested, and names the scopes a helper may use.
 */
export const DELEGATION_RULES = {
  maxDurationDays: 3 * 365,
  inviteTtlSeconds: 7 * 24 * 3600,
  reminderBeforeSeconds: 7 * 24 * 3600,
  /** Scopes a principal can let a helper receive and use at an agency. */
  delegableScopes: ['email', 'profile', 'profile:name', 'profile:birthdate', 'profile:verified_at', 'address', 'phone', 'offline_access'],
} as const;

export const ALL_AGENCIES = '*';

export function parseList(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Active now: accepted, started, not ended, not revoked. */
export function isActive(d: Pick<Delegation, 'status' | 'startsAt' | 'endsAt'>, now: Date): boolean {
  return d.status === 'active' && d.startsAt.getTime() <= now.getTime() && now.getTime() < d.endsAt.getTime();
}

/** Does the delegation cover this agency? */
/** Whom the agencies know as the person helped: their account, or their represented profile. */
export function subjectIdOf(d: Pick<Delegation, 'principalId' | 'representedPersonId'>): string | null {
  return d.principalId ?? d.representedPersonId;
}

export function covers(d: Pick<Delegation, 'clientIds'>, clientId: string): boolean {
  const ids = parseList(d.clientIds);
  return ids.includes(ALL_AGENCIES) || ids.includes(clientId);
}

/** What a delegated authorization may carry: asked ∩ allowed for the client ∩ delegated (+ openid). */
export function intersectScopes(opts: { requested: readonly string[]; clientAllowed: readonly string[]; delegated: readonly string[] }): string[] {
  return opts.requested.filter((s) => s === 'openid' || (opts.clientAllowed.includes(s) && opts.delegated.includes(s)));
}

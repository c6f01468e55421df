import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { OidcClient, OidcPayload, SecurityEventDelivery } from '../../entities/index.js';
import { clock } from '../shared/clock.js';

/**
 * Security events an agency may want to act on, as Security Event Token event types (RFC 8417
 * §2.2): the OpenID RISC and CAEP profiles where one fits, OneDoor's own URN otherwise.
 */
export const SECURITY_EVENT_TYPES = {
  account_disabled: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  account_enabled: 'https://schemas.openid.net/secevent/risc/event-type/account-enabled',
  account_purged: 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  credential_change: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  delegation_revoked: 'urn:onedoor:secevent:delegation-revoked',
} as const;
export type SecurityEventName = keyof typeof SECURITY_EVENT_TYPES;

/** The client-file field by which an agency opts in to security events. */
export const SECURITY_EVENT_ENDPOINT = 'security_event_endpoint';

/** Agencies the person has a live grant (consent) with, whichever way it was given. */
export async function connectedClientIds(opts: { db: EntityManager; accountId: string }): Promise<string[]> {
  const grants = await opts.db.getRepository(OidcPayload).findBy({ model: 'Grant', accountId: opts.accountId });
  const now = Date.now();
  return [...new Set(grants.filter((g) => !g.expiresAt || g.expiresAt.getTime() > now).map((g) => (JSON.parse(g.payload) as { clientId: string }).clientId))];
}

/**
 * Puts a security event about one person into the outbox, once per agency that should hear of
 * it: by default every agency the person is connected to; `clientIds` narrows that (or, for an
 * event about connections already ended, names them). Agencies that did not opt in with a
 * `security_event_endpoint` get nothing. Call it in the transaction that makes the change, so
 * that the event exists exactly when the change does. Returns the agencies queued for.
 */
export async function queueSecurityEvent(opts: {
  db: EntityManager;
  accountId: string;
  event: SecurityEventName;
  clientIds?: readonly string[];
  details?: Record<string, string | number | boolean>;
}): Promise<string[]> {
  const candidates = [...new Set(opts.clientIds ?? await connectedClientIds(opts))];
  if (!candidates.length) return [];
  const clients = await opts.db.getRepository(OidcClient).findBy({ clientId: In(candidates) });
  const optedIn = clients.filter((c) => typeof (JSON.parse(c.metadata) as Record<string, unknown>)[SECURITY_EVENT_ENDPOINT] === 'string').map((c) => c.clientId).sort();
  if (!optedIn.length) return [];
  const now = clock.now();
  await opts.db.getRepository(SecurityEventDelivery).insert(optedIn.map((clientId) => ({
    id: randomUUID(), clientId, accountId: opts.accountId, eventType: SECURITY_EVENT_TYPES[opts.event], details: JSON.stringify(opts.details ?? {}),
    status: 'pending' as const, attempts: 0, nextAttemptAt: now, lastError: null, eventAt: now, createdAt: now, deliveredAt: null,
  })));
  return optedIn;
}

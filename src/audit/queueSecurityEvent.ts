import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { OidcClient, SecurityEventDelivery } from '../../entities/index.js';
import { listOwnGrants } from '../accounts/listOwnGrants.js';
import { readSqlDate, sqlDialect } from '../shared/sqlValues.js';
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
  assurance_level_change: 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change',
  delegation_revoked: 'urn:onedoor:secevent:delegation-revoked',
} as const;
export type SecurityEventName = keyof typeof SECURITY_EVENT_TYPES;

/** The client-file field by which an agency opts in to security events. */
export const SECURITY_EVENT_ENDPOINT = 'security_event_endpoint';

/**
 * Agencies that know the person, each under the pairwise subject it knows them by: those they
 * consented to themself, and those where a helper acted for them (the agency received their
 * subject in delegated sessions). An agency where the person only acted as someone's helper knows
 * them only as an actor for another person: it hears of the delegation ending, not of the helper.
 */
export async function connectedClientIds(opts: { db: EntityManager; accountId: string }): Promise<string[]> {
  const own = (await listOwnGrants({ db: opts.db, accountId: opts.accountId })).map((g) => g.clientId);
  const { q } = sqlDialect(opts.db);
  const helped = (await opts.db.query(
    `SELECT ${q('dg')}.${q('client_id')} AS ${q('clientId')}, ${q('p')}.${q('expires_at')} AS ${q('expiresAt')} FROM ${q('delegated_grants')} ${q('dg')} `
    + `JOIN ${q('delegations')} ${q('d')} ON ${q('d')}.${q('id')} = ${q('dg')}.${q('delegation_id')} `
    + `JOIN ${q('oidc_payloads')} ${q('p')} ON ${q('p')}.${q('model')} = 'Grant' AND ${q('p')}.${q('id')} = ${q('dg')}.${q('grant_id')} `
    + `WHERE ${q('d')}.${q('principal_id')} = ?`,
    [opts.accountId],
  )) as Array<{ clientId: string; expiresAt: string | Date | null }>;
  const now = Date.now();
  const viaHelpers = helped.filter((r) => { const e = readSqlDate(r.expiresAt); return !e || e.getTime() > now; }).map((r) => r.clientId);
  return [...new Set([...own, ...viaHelpers])];
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

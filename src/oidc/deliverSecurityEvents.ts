import { importJWK, SignJWT, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import { LessThanOrEqual, type DataSource } from 'typeorm';
import { Account, SecurityEventDelivery } from '../../entities/index.js';
import { SECURITY_EVENT_ENDPOINT } from '../audit/queueSecurityEvent.js';
import type { Config } from '../config/loadConfig.js';
import { clock } from '../shared/clock.js';
import { logger } from '../shared/logger.js';
import { type OutgoingFailure, outgoingRequest } from '../shared/outgoingRequest.js';
import type { KeyMaterial } from './keys.js';
import { sectorOf } from './pairwise.js';
import { subjectAt } from './subjectAt.js';

/** Waits before the 2nd, 3rd… attempt; after the last one the delivery is dead-lettered (`failed`). */
export const SECURITY_EVENT_RETRY_SECONDS = [30, 120, 600, 1800, 7200, 21600, 43200, 86400] as const;
/** How long a node that picked a delivery holds it before another node may try it. */
const LEASE_SECONDS = 60;
const TIMEOUT_MS = 10_000;
const BATCH = 50;

export interface DeliverSecurityEventsResult {
  delivered: number;
  retrying: number;
  failed: number;
}

type Outcome = { ok: true } | { ok: false; permanent: boolean; error: string };

/**
 * RFC 8417 Security Event Token for one delivery: signed with OneDoor's current ES256 key,
 * `typ` secevent+jwt, audience the agency, and the subject as the agency's pairwise subject in
 * `sub_id` (format `iss_sub`, RFC 9493), never an address or OneDoor's own account id.
 */
export async function signSecurityEvent(opts: { keys: KeyMaterial; issuer: string; clientId: string; subject: string; delivery: Pick<SecurityEventDelivery, 'id' | 'eventType' | 'details' | 'eventAt'> }): Promise<string> {
  const jwk = opts.keys.jwks.keys.find((k) => k.alg === 'ES256') as JWK;
  const key = await importJWK(jwk, 'ES256');
  const eventAt = Math.floor(opts.delivery.eventAt.getTime() / 1000);
  return new SignJWT({
    jti: opts.delivery.id,
    sub_id: { format: 'iss_sub', iss: opts.issuer, sub: opts.subject },
    events: { [opts.delivery.eventType]: { ...(JSON.parse(opts.delivery.details) as Record<string, unknown>), event_timestamp: eventAt } },
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid!, typ: 'secevent+jwt' })
    .setIssuer(opts.issuer)
    .setAudience(opts.clientId)
    .setIssuedAt(eventAt)
    .sign(key);
}

/** Refused by the outgoing rules (checkOutgoingUrl): sending again will not help. */
const REFUSED = new Set<OutgoingFailure>(['invalid_url', 'scheme_not_allowed', 'address_not_allowed']);

/**
 * RFC 8935 §2: POST the token; 202 Accepted means delivered, 400 means the recipient will never
 * accept it. Through the outgoing-request helper: https to public addresses only (plain http to
 * this machine while OneDoor runs on localhost), no redirects, a deadline, a size limit.
 */
async function push(config: Config, endpoint: string, token: string): Promise<Outcome> {
  const result = await outgoingRequest({
    url: endpoint, policy: config, method: 'POST', timeoutMs: TIMEOUT_MS,
    headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json' }, body: token,
  });
  if (!result.ok) return { ok: false, permanent: REFUSED.has(result.reason), error: result.reason };
  const res = result.response;
  if (res.status === 202 || res.status === 200 || res.status === 204) return { ok: true };
  let code = '';
  if (res.status === 400) {
    // The recipient names the reason with an RFC 8935 §2.3 error code (invalid_key, invalid_audience…).
    const body = await res.json().catch(() => undefined) as { err?: unknown } | undefined;
    if (typeof body?.err === 'string' && /^[a-z_]{1,40}$/.test(body.err)) code = ` ${body.err}`;
  }
  return { ok: false, permanent: res.status === 400, error: `http ${res.status}${code}` };
}

/**
 * Works the outbox once: every due delivery is claimed (a short lease, so that several nodes
 * never send the same one at once), signed and pushed. Failures are retried with growing
 * delays (SECURITY_EVENT_RETRY_SECONDS); a delivery the agency rejects (400), whose agency is
 * gone or no longer opted in, or that used up its retries stays in the table as `failed`.
 * Runs periodically in main.ts; tests call it directly.
 */
export async function deliverSecurityEvents(opts: { ds: DataSource; provider: Provider; keys: KeyMaterial; config: Config }): Promise<DeliverSecurityEventsResult> {
  const repo = opts.ds.getRepository(SecurityEventDelivery);
  const now = clock.now();
  const due = await repo.find({ where: { status: 'pending', nextAttemptAt: LessThanOrEqual(now) }, order: { nextAttemptAt: 'ASC' }, take: BATCH });
  const result: DeliverSecurityEventsResult = { delivered: 0, retrying: 0, failed: 0 };
  for (const row of due) {
    const lease = new Date(now.getTime() + LEASE_SECONDS * 1000);
    const claimed = await repo.update({ id: row.id, status: 'pending', attempts: row.attempts, nextAttemptAt: LessThanOrEqual(now) }, { nextAttemptAt: lease });
    if (!claimed.affected) continue;

    let outcome: Outcome;
    const client = await opts.provider.Client.find(row.clientId).catch(() => undefined);
    const endpoint = client ? (client.metadata() as Record<string, unknown>)[SECURITY_EVENT_ENDPOINT] : undefined;
    if (!client) outcome = { ok: false, permanent: true, error: 'agency removed' };
    else if (typeof endpoint !== 'string') outcome = { ok: false, permanent: true, error: 'no security_event_endpoint' };
    else {
      const subject = subjectAt({ salt: opts.keys.secrets.pairwiseSalt, sector: sectorOf(client), id: row.accountId, account: await opts.ds.getRepository(Account).findOneBy({ id: row.accountId }) });
      const token = await signSecurityEvent({ keys: opts.keys, issuer: opts.config.issuer, clientId: row.clientId, subject, delivery: row });
      outcome = await push(opts.config, endpoint, token);
    }

    const attempts = row.attempts + 1;
    if (outcome.ok) {
      await repo.update({ id: row.id }, { status: 'delivered', attempts, deliveredAt: clock.now(), lastError: null });
      result.delivered += 1;
    } else if (outcome.permanent || attempts > SECURITY_EVENT_RETRY_SECONDS.length) {
      await repo.update({ id: row.id }, { status: 'failed', attempts, lastError: outcome.error });
      logger.warn({ delivery: row.id, clientId: row.clientId, error: outcome.error }, 'security event not delivered: given up');
      result.failed += 1;
    } else {
      const wait = SECURITY_EVENT_RETRY_SECONDS[attempts - 1]!;
      await repo.update({ id: row.id }, { attempts, lastError: outcome.error, nextAttemptAt: new Date(clock.nowMs() + wait * 1000) });
      logger.info({ delivery: row.id, clientId: row.clientId, error: outcome.error, retryInSeconds: wait }, 'security event delivery will be retried');
      result.retrying += 1;
    }
  }
  return result;
}


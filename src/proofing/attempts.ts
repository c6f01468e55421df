import { MoreThan, type EntityManager } from 'typeorm';
import { AuditEvent } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { AuditEventType } from '../audit/recordEvent.js';

/** Vendor checks a person may run per day, per kind (each one is audited, and each costs). */
export const MAX_ATTEMPTS_PER_DAY = 5;

/** True when the account has used up today's attempts of this kind. */
export async function attemptsExhausted(opts: { db: EntityManager; accountId: string; type: AuditEventType }): Promise<boolean> {
  const since = new Date(clock.nowMs() - 24 * 3600 * 1000);
  const n = await opts.db.getRepository(AuditEvent).countBy({ accountId: opts.accountId, type: opts.type, at: MoreThan(since) });
  return n >= MAX_ATTEMPTS_PER_DAY;
}

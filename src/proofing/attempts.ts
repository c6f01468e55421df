import { MoreThan, type EntityManager } from 'typeorm';
import { AuditEvent } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { AuditEventType } from '../audit/recordEvent.js';

/** Vendor checks a person may run per day, per kind (each one is audited, and each costs). */
export const MAX_ATTEMPTS_PER_DAY = 5;

/** Outcomes that did not reach a vendor verdict (outages, unreadable photos) do not count. */
const FREE_OUTCOMES = new Set(['unavailable', 'expired', 'no_barcode', 'unsupported_image', 'malformed']);

/** True when the account has used up today's vendor verdicts of this kind. */
export async function attemptsExhausted(opts: { db: EntityManager; accountId: string; type: AuditEventType }): Promise<boolean> {
  const since = new Date(clock.nowMs() - 24 * 3600 * 1000);
  const rows = await opts.db.getRepository(AuditEvent).find({ where: { accountId: opts.accountId, type: opts.type, at: MoreThan(since) }, select: { details: true } });
  const counted = rows.filter((r) => !FREE_OUTCOMES.has((JSON.parse(r.details) as { outcome?: string }).outcome ?? ''));
  return counted.length >= MAX_ATTEMPTS_PER_DAY;
}

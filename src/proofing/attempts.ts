import { MoreThan, type EntityManager } from 'typeorm';
import { AuditEvent } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { AuditEventType } from '../audit/recordEvent.js';

/** A daily budget: how many checks of a kind count, by their audited outcome. */
interface Budget { max: number; counts: { only: readonly string[] } | { except: readonly string[] } }

/** Vendor checks of identity documents a person may run per day (each is paid for, and each is a try of a document). */
export const MAX_DOCUMENT_CHECKS_PER_DAY = 5;
/** Photos of the back of an ID a person may have read per day, whatever was found in them. */
export const MAX_DOCUMENT_READS_PER_DAY = 20;
/** Facial matches and records checks a person may run per day. */
export const MAX_ATTEMPTS_PER_DAY = 5;

/** Only a vendor outage is free: the person did nothing wrong, and nothing was decided. */
const ALL_BUT_OUTAGES = { except: ['unavailable'] } as const;

/**
 * The budgets of each kind of check, as data. Every upload of an ID is read from its header
 * and, unless refused there, decoded (seconds of CPU for a large photo), so every read counts,
 * whatever it found — an unreadable photo costs as much as a readable one. The vendor's
 * verdicts have their own, smaller budget.
 */
const DAILY_BUDGETS: Partial<Record<AuditEventType, readonly Budget[]>> = {
  proofing_document_checked: [
    { max: MAX_DOCUMENT_READS_PER_DAY, counts: ALL_BUT_OUTAGES },
    { max: MAX_DOCUMENT_CHECKS_PER_DAY, counts: { only: ['passed', 'failed'] } },
  ],
  proofing_facial_match_checked: [{ max: MAX_ATTEMPTS_PER_DAY, counts: ALL_BUT_OUTAGES }],
  proofing_records_checked: [{ max: MAX_ATTEMPTS_PER_DAY, counts: ALL_BUT_OUTAGES }],
};

const counted = (budget: Budget, outcome: string) => ('only' in budget.counts ? budget.counts.only.includes(outcome) : !budget.counts.except.includes(outcome));

/** True when the account has used up one of today's budgets for checks of this kind (the last 24 hours). */
export async function attemptsExhausted(opts: { db: EntityManager; accountId: string; type: AuditEventType }): Promise<boolean> {
  const budgets = DAILY_BUDGETS[opts.type];
  if (!budgets) throw new TypeError(`attemptsExhausted: no daily budget for ${opts.type}`);
  const since = new Date(clock.nowMs() - 24 * 3600 * 1000);
  const rows = await opts.db.getRepository(AuditEvent).find({ where: { accountId: opts.accountId, type: opts.type, at: MoreThan(since) }, select: { details: true } });
  const outcomes = rows.map((r) => (JSON.parse(r.details) as { outcome?: string }).outcome ?? '');
  return budgets.some((budget) => outcomes.filter((o) => counted(budget, o)).length >= budget.max);
}

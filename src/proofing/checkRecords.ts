import { recordEvent } from '../audit/recordEvent.js';
import { attemptsExhausted } from './attempts.js';
import type { ProofingContext } from './proofingContext.js';
import { completeStep, readDraft, type ProofingState } from './proofingSessions.js';
import { VendorUnavailable } from './vendors/ports.js';

export type CheckRecordsResult = { ok: true; state: ProofingState } | { ok: false; reason: 'failed' | 'unavailable' | 'too_many_attempts' | 'incomplete' };

/**
 * Resolves name, date of birth, address and SSN against authoritative records, with a
 * date-of-death check. The person only learns that the check failed, never which attribute
 * did not match (NIST SP 800-63A; the vendor's reason stays in the audit log as a code).
 */
export async function checkRecords(ctx: ProofingContext, opts: { state: ProofingState }): Promise<CheckRecordsResult> {
  const accountId = opts.state.session.accountId;
  const draft = readDraft(ctx, opts.state.session);
  if (!draft.document || !draft.ssn) return { ok: false, reason: 'incomplete' };
  if (await attemptsExhausted({ db: ctx.db, accountId, type: 'proofing_records_checked' })) return { ok: false, reason: 'too_many_attempts' };
  const { document: d } = draft;
  let verdict;
  try {
    verdict = await ctx.vendors.records.check({ firstName: d.firstName, lastName: d.lastName, dateOfBirth: d.dateOfBirth, ssn: draft.ssn, address: d.address });
  } catch (err) {
    if (!(err instanceof VendorUnavailable)) throw err;
    await recordEvent({ db: ctx.db, accountId, type: 'proofing_records_checked', details: { outcome: 'unavailable' } });
    return { ok: false, reason: 'unavailable' };
  }
  await recordEvent({ db: ctx.db, accountId, type: 'proofing_records_checked', details: { outcome: verdict.ok ? 'passed' : verdict.reason } });
  if (!verdict.ok) return { ok: false, reason: 'failed' };
  return { ok: true, state: await completeStep(ctx, opts.state.session, 'records') };
}

import { recordEvent } from '../audit/recordEvent.js';
import { attemptsExhausted } from './attempts.js';
import type { ProofingContext } from './proofingContext.js';
import { completeStep, type ProofingState } from './proofingSessions.js';
import { VendorUnavailable } from './vendors/ports.js';

export type SubmitFacialMatchResult = { ok: true; state: ProofingState } | { ok: false; reason: 'failed' | 'unavailable' | 'too_many_attempts' };

/** Compares a live photo with the document's portrait through the facial-match vendor. Neither image is kept. */
export async function submitFacialMatch(ctx: ProofingContext, opts: { state: ProofingState; selfie: Buffer; documentFront: Buffer }): Promise<SubmitFacialMatchResult> {
  const accountId = opts.state.session.accountId;
  if (await attemptsExhausted({ db: ctx.db, accountId, type: 'proofing_facial_match_checked' })) return { ok: false, reason: 'too_many_attempts' };
  let verdict;
  try {
    verdict = await ctx.vendors.faces.match({ selfie: opts.selfie, documentFront: opts.documentFront });
  } catch (err) {
    if (!(err instanceof VendorUnavailable)) throw err;
    await recordEvent({ db: ctx.db, accountId, type: 'proofing_facial_match_checked', details: { outcome: 'unavailable' } });
    return { ok: false, reason: 'unavailable' };
  }
  await recordEvent({ db: ctx.db, accountId, type: 'proofing_facial_match_checked', details: { outcome: verdict.ok ? 'passed' : 'failed' } });
  if (!verdict.ok) return { ok: false, reason: 'failed' };
  return { ok: true, state: await completeStep(ctx, opts.state.session, 'facial_match', { facialMatch: true }) };
}

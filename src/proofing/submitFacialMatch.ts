import { recordEvent } from '../audit/recordEvent.js';
import { attemptsExhausted } from './attempts.js';
import { discardProofingImages, readDocumentFront } from './documentFront.js';
import type { ProofingContext } from './proofingContext.js';
import { completeStep, redoStep, type ProofingState } from './proofingSessions.js';
import { VendorUnavailable } from './vendors/ports.js';

export type SubmitFacialMatchResult = { ok: true; state: ProofingState } | { ok: false; reason: 'failed' | 'unavailable' | 'too_many_attempts' | 'document_needed' };

/**
 * Compares a live photo with the portrait on the front of the document checked in the
 * document step — the one kept, sealed, for this (documentFront.ts), never an image sent with
 * the selfie. Once they match, the kept front is deleted; the selfie is never kept. Without a
 * kept front (it cannot be read) the document step must be done again: `document_needed`.
 */
export async function submitFacialMatch(ctx: ProofingContext, opts: { state: ProofingState; selfie: Buffer }): Promise<SubmitFacialMatchResult> {
  const { session } = opts.state;
  const accountId = session.accountId;
  if (await attemptsExhausted({ db: ctx.db, accountId, type: 'proofing_facial_match_checked' })) return { ok: false, reason: 'too_many_attempts' };
  const documentFront = await readDocumentFront(ctx, { session });
  if (!documentFront) {
    await redoStep(ctx, session, 'document');
    return { ok: false, reason: 'document_needed' };
  }
  let verdict;
  try {
    verdict = await ctx.vendors.faces.match({ selfie: opts.selfie, documentFront });
  } catch (err) {
    if (!(err instanceof VendorUnavailable)) throw err;
    await recordEvent({ db: ctx.db, accountId, type: 'proofing_facial_match_checked', details: { outcome: 'unavailable' } });
    return { ok: false, reason: 'unavailable' };
  }
  await recordEvent({ db: ctx.db, accountId, type: 'proofing_facial_match_checked', details: { outcome: verdict.ok ? 'passed' : 'failed' } });
  if (!verdict.ok) return { ok: false, reason: 'failed' };
  const state = await ctx.db.transaction(async (db) => {
    const done = await completeStep({ ...ctx, db }, session, 'facial_match', { facialMatch: true });
    await discardProofingImages({ db }, accountId);
    return done;
  });
  return { ok: true, state };
}

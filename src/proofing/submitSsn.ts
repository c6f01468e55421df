import type { ProofingContext } from './proofingContext.js';
import { completeStep, readDraft, type ProofingState } from './proofingSessions.js';
import { validateSsn } from './ssn.js';

export type SubmitSsnResult = { ok: true; state: ProofingState } | { ok: false; reason: 'ssn_format' | 'ssn_invalid' | 'dob_mismatch' | 'dob_format' };

/**
 * Takes the SSN (SSA format rules) and the date of birth, which must be the one on the
 * document. Both are sealed in the draft; the records check uses them next.
 */
export async function submitSsn(ctx: ProofingContext, opts: { state: ProofingState; ssn: string; dateOfBirth: string }): Promise<SubmitSsnResult> {
  const v = validateSsn(opts.ssn);
  if (!v.ok) return { ok: false, reason: v.reason === 'format' ? 'ssn_format' : 'ssn_invalid' };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.dateOfBirth)) return { ok: false, reason: 'dob_format' };
  const draft = readDraft(ctx, opts.state.session);
  if (draft.document?.dateOfBirth !== opts.dateOfBirth) return { ok: false, reason: 'dob_mismatch' };
  return { ok: true, state: await completeStep(ctx, opts.state.session, 'ssn', { ssn: v.ssn }, {}, ['records', 'possession', 'reauth']) };
}

import { ProofingSession } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import { attemptsExhausted } from './attempts.js';
import { keepDocumentFront } from './documentFront.js';
import { measureImage } from './documents/measureImage.js';
import { readIdDocument, type ReadIdDocumentResult } from './documents/readIdDocument.js';
import type { ProofingContext } from './proofingContext.js';
import { completeStep, type ProofingState } from './proofingSessions.js';
import { dependentsOf } from './steps.js';
import { VendorUnavailable } from './vendors/ports.js';

export type SubmitDocumentResult =
  | { ok: true; state: ProofingState }
  | { ok: false; reason: Extract<ReadIdDocumentResult, { ok: false }>['reason'] | 'failed' | 'unavailable' | 'too_many_attempts' };

/**
 * Checks the identity document: the PDF417 barcode on the back is read and parsed (AAMVA),
 * the document must not be expired, and the document vendor must accept both images. What is
 * kept is the parsed data, sealed, and — only when the flow has a facial match — the front
 * image, sealed, until the selfie is compared with it (documentFront.ts). Every photo read
 * counts toward the day's budget (attempts.ts); a full decode pool (`busy`) read nothing and
 * is not counted.
 */
export async function submitDocument(ctx: ProofingContext, opts: { state: ProofingState; front: Buffer; back: Buffer }): Promise<SubmitDocumentResult> {
  const { session } = opts.state;
  const accountId = session.accountId;
  if (await attemptsExhausted({ db: ctx.db, accountId, type: 'proofing_document_checked' })) return { ok: false, reason: 'too_many_attempts' };
  // The front is not decoded here, but it goes to the vendor and may be kept: it must be a photo within the same limits.
  const front = measureImage(opts.front);
  const read = front.ok ? await readIdDocument({ back: opts.back, today: clock.now(), decoder: ctx.decoder }) : front;
  if (!read.ok) {
    if (read.reason !== 'busy') await recordEvent({ db: ctx.db, accountId, type: 'proofing_document_checked', details: { outcome: read.reason } });
    return { ok: false, reason: read.reason };
  }
  let verdict;
  try {
    verdict = await ctx.vendors.documents.authenticate({ front: opts.front, back: opts.back, documentNumber: read.document.documentNumber, expirationDate: read.document.expirationDate });
  } catch (err) {
    if (!(err instanceof VendorUnavailable)) throw err;
    await recordEvent({ db: ctx.db, accountId, type: 'proofing_document_checked', details: { outcome: 'unavailable' } });
    return { ok: false, reason: 'unavailable' };
  }
  await recordEvent({ db: ctx.db, accountId, type: 'proofing_document_checked', details: { outcome: verdict.ok ? 'passed' : 'failed' } });
  if (!verdict.ok) return { ok: false, reason: 'failed' };
  const state = await ctx.db.transaction(async (db) => {
    // A new document invalidates what was checked against the old one.
    const done = await completeStep({ ...ctx, db }, session, 'document', { document: read.document, ssn: undefined, facialMatch: undefined }, {}, dependentsOf('document'));
    // After that update the session row is ours until commit: if it is gone (abandoned
    // meanwhile), no photo is left behind.
    if (session.facialMatchRequired && (await db.getRepository(ProofingSession).existsBy({ id: session.id }))) {
      await keepDocumentFront({ ...ctx, db }, { session, image: opts.front });
    }
    return done;
  });
  return { ok: true, state };
}

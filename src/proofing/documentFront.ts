import { ProofingImage, type ProofingSession } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { ProofingContext } from './proofingContext.js';
import { openBytes, sealBytes } from './vault.js';

/**
 * The front of the ID checked in the document step, kept for the facial match (NIST SP
 * 800-63A-4: the biometric comparison is against the portrait on the evidence that was
 * validated, not any portrait). Sealed in the vault, bound to the account and the proofing
 * session; stored in parts (entities/ProofingImage.ts says why). Deleted once the match is
 * done, when a new document replaces it, and with the proofing session (abandoned,
 * completed, account deleted).
 */
const KIND = 'document_front';
/** 1 MiB a part: one INSERT each, 2 MiB as hex, far under any max_allowed_packet. */
const PART_BYTES = 1024 * 1024;
const aad = (session: ProofingSession) => `proofing-document-front:${session.accountId}:${session.id}`;

/** Keeps `image` as the session's document front, replacing any kept before. Call inside the transaction that completes the document step. */
export async function keepDocumentFront(ctx: Pick<ProofingContext, 'db' | 'kek'>, opts: { session: ProofingSession; image: Buffer }): Promise<void> {
  const { session } = opts;
  const sealed = sealBytes({ kek: ctx.kek, plaintext: opts.image, aad: aad(session) });
  const repo = ctx.db.getRepository(ProofingImage);
  await repo.delete({ accountId: session.accountId, kind: KIND });
  const createdAt = clock.now();
  for (let part = 0; part * PART_BYTES < sealed.length; part++) {
    const data = sealed.subarray(part * PART_BYTES, (part + 1) * PART_BYTES);
    await repo.insert({ accountId: session.accountId, kind: KIND, part, sessionId: session.id, data, createdAt });
  }
}

/** The kept front, opened; undefined when there is none for this session (or its parts are not all there). */
export async function readDocumentFront(ctx: Pick<ProofingContext, 'db' | 'kek'>, opts: { session: ProofingSession }): Promise<Buffer | undefined> {
  const { session } = opts;
  const rows = await ctx.db.getRepository(ProofingImage).find({ where: { accountId: session.accountId, kind: KIND }, order: { part: 'ASC' } });
  if (!rows.length || rows.some((r, i) => r.part !== i || r.sessionId !== session.id)) return undefined;
  return openBytes({ kek: ctx.kek, sealed: Buffer.concat(rows.map((r) => r.data)), aad: aad(session) });
}

/** Deletes every photo proofing kept for the account. */
export async function discardProofingImages(ctx: Pick<ProofingContext, 'db'>, accountId: string): Promise<void> {
  await ctx.db.getRepository(ProofingImage).delete({ accountId });
}

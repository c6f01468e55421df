import type { EntityManager } from 'typeorm';
import { ProofingImage, type ProofingSession } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { ProofingContext } from './proofingContext.js';
import { type Kek, kidOfBytes, openBytes, rewrapBytes, sealBytes } from './vault.js';

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
const aad = (session: Pick<ProofingSession, 'accountId' | 'id'>) => `proofing-document-front:${session.accountId}:${session.id}`;

/** Keeps `image` as the session's document front, replacing any kept before. Call inside the transaction that completes the document step. */
export async function keepDocumentFront(ctx: Pick<ProofingContext, 'db' | 'kek'>, opts: { session: ProofingSession; image: Buffer }): Promise<void> {
  const { session } = opts;
  const sealed = sealBytes({ kek: ctx.kek, plaintext: opts.image, aad: aad(session) });
  const repo = ctx.db.getRepository(ProofingImage);
  await repo.delete({ accountId: session.accountId, kind: KIND });
  await insertParts(ctx.db, { accountId: session.accountId, sessionId: session.id, sealed, createdAt: clock.now() });
}

async function insertParts(db: EntityManager, opts: { accountId: string; sessionId: string; sealed: Buffer; createdAt: Date }): Promise<void> {
  for (let part = 0; part * PART_BYTES < opts.sealed.length; part++) {
    const data = opts.sealed.subarray(part * PART_BYTES, (part + 1) * PART_BYTES);
    await db.getRepository(ProofingImage).insert({ accountId: opts.accountId, kind: KIND, part, sessionId: opts.sessionId, data, createdAt: opts.createdAt });
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

export type KeptPhotoRewrap = 'current' | 'rewrapped' | 'older' | 'unreadable';

/**
 * For `onedoor keys rotate-kek`: re-wraps, under the KEK's first entry, the data key of each kept
 * photo still under an older entry (at most `limit`), all its parts at once and only if they are
 * still what was read. Kept photos live minutes to days (until the facial match), but an old KEK
 * entry must not be removed while one still needs it. Returns each photo's outcome and kid.
 */
export async function rewrapKeptPhotos(opts: { db: EntityManager; kek: Kek; limit: number }): Promise<Array<{ state: KeptPhotoRewrap; kid?: string }>> {
  const first = opts.kek.entries[0]!;
  const repo = opts.db.getRepository(ProofingImage);
  const rows = await repo.find({ order: { accountId: 'ASC', part: 'ASC' } });
  const photos = new Map<string, ProofingImage[]>();
  for (const r of rows) photos.set(r.accountId, [...(photos.get(r.accountId) ?? []), r]);
  let budget = opts.limit;
  const out: Array<{ state: KeptPhotoRewrap; kid?: string }> = [];
  for (const [accountId, parts] of photos) {
    const sealed = Buffer.concat(parts.map((p) => p.data));
    let kid: string;
    try {
      kid = kidOfBytes(sealed);
    } catch {
      out.push({ state: 'unreadable' });
      continue;
    }
    if (kid === first.kid) { out.push({ state: 'current', kid }); continue; }
    if (!opts.kek.entries.some((e) => e.kid === kid)) { out.push({ state: 'unreadable', kid }); continue; }
    if (budget <= 0) { out.push({ state: 'older', kid }); continue; }
    let next: Buffer;
    try {
      next = rewrapBytes({ kek: opts.kek, sealed, aad: aad({ accountId, id: parts[0]!.sessionId }) });
    } catch {
      out.push({ state: 'unreadable', kid });
      continue;
    }
    const done = await opts.db.transaction(async (db) => {
      const now = await db.getRepository(ProofingImage).find({ where: { accountId, kind: KIND }, order: { part: 'ASC' } });
      if (!Buffer.concat(now.map((p) => p.data)).equals(sealed)) return false;
      await db.getRepository(ProofingImage).delete({ accountId, kind: KIND });
      await insertParts(db, { accountId, sessionId: parts[0]!.sessionId, sealed: next, createdAt: parts[0]!.createdAt });
      return true;
    });
    if (done) budget -= 1;
    out.push(done ? { state: 'rewrapped', kid: first.kid } : { state: 'older', kid });
  }
  return out;
}

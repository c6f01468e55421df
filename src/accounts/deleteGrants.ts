import { In, type EntityManager } from 'typeorm';
import { OidcPayload } from '../../entities/index.js';
import { grantCacheOf, whenCommitted } from '../shared/grantCache.js';

/**
 * Deletes grants (and, with `withArtifacts`, everything issued under them: codes, tokens): the
 * one way grants are revoked, so that the Redis copy a token request reads (src/shared/grantCache.ts)
 * never outlives its grant. The copies are tombstoned first — if Redis cannot be reached this
 * throws and the caller's transaction rolls back — and again once the transaction commits.
 */
export async function deleteGrants(opts: { db: EntityManager; grantIds: readonly string[]; withArtifacts?: boolean }): Promise<void> {
  const ids = [...new Set(opts.grantIds)];
  if (!ids.length) return;
  const cache = grantCacheOf(opts.db.dataSource);
  if (cache) await cache.revoke(ids);
  const repo = opts.db.getRepository(OidcPayload);
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    if (opts.withArtifacts) await repo.delete({ grantId: In(chunk) });
    await repo.delete({ model: 'Grant', id: In(chunk) });
  }
  if (cache) await whenCommitted(opts.db, () => cache.revoke(ids));
}

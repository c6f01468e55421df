import { type DataSource, type EntityManager, IsNull, LessThanOrEqual } from 'typeorm';
import { PhoneRequest } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { PHONE_RULES } from './phoneRules.js';

/** Requests nobody can answer any more: those for addresses without an account once expired, all others a block's length later. */
export async function purgePhoneRequests(opts: { db: DataSource | EntityManager }): Promise<number> {
  const now = clock.now().getTime();
  const repo = opts.db.getRepository(PhoneRequest);
  const unknown = await repo.delete({ accountId: IsNull(), expiresAt: LessThanOrEqual(new Date(now)) });
  const old = await repo.delete({ expiresAt: LessThanOrEqual(new Date(now - PHONE_RULES.blockSeconds * 1000)) });
  return (unknown.affected ?? 0) + (old.affected ?? 0);
}

import { type EntityManager, MoreThan } from 'typeorm';
import { PhoneRequest } from '../../entities/index.js';
import { clock } from '../shared/clock.js';

/** The person's phone requests still waiting for an answer, newest first (the top of the account page). */
export async function listOpenPhoneRequests(opts: { db: EntityManager; accountId: string }): Promise<PhoneRequest[]> {
  return opts.db.getRepository(PhoneRequest).find({
    where: { accountId: opts.accountId, status: 'pending', expiresAt: MoreThan(clock.now()) },
    order: { createdAt: 'DESC' },
  });
}

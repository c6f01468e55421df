import type { EntityManager } from 'typeorm';
import { Account } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import type { Translate } from '../shared/i18n.js';

/** However many tries there are, on however many nodes, the person gets at most one warning an hour. */
export const RECOVERY_ALERT_INTERVAL_SECONDS = 3600;

/**
 * The mail that tells a person, in their language, that someone just tried a recovery code on
 * their account without success — or nothing, when they were already told within the hour. A
 * recovery code is the one thing a stranger can try against an account, and only its owner can
 * act on it (get new codes, or know it was them). The update that claims the hour decides, so
 * concurrent tries on any nodes make one mail. The caller sends it (in the background: a slow
 * mail server must not make a known address answer slower than an unknown one).
 */
export async function recoveryAlertFor(opts: { db: EntityManager; t: (locale: string) => Translate; accountId: string; accountUrl: string }): Promise<{ to: string; subject: string; text: string } | undefined> {
  const now = clock.now();
  const since = new Date(now.getTime() - RECOVERY_ALERT_INTERVAL_SECONDS * 1000);
  const claimed = await opts.db.getRepository(Account).createQueryBuilder().update()
    .set({ recoveryAlertedAt: now })
    .where('id = :id AND status = :active AND (recovery_alerted_at IS NULL OR recovery_alerted_at <= :since)', { id: opts.accountId, active: 'active', since })
    .execute();
  if (!claimed.affected) return undefined;
  const account = await opts.db.getRepository(Account).findOneBy({ id: opts.accountId });
  if (!account) return undefined;
  const t = opts.t(account.locale);
  return {
    to: account.email,
    subject: t('mail.recovery_code_tried.subject'),
    text: t('mail.recovery_code_tried.body', { url: opts.accountUrl, time: `${now.toISOString().slice(0, 16).replace('T', ' ')} UTC` }),
  };
}

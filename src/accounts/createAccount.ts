import type { EntityManager } from 'typeorm';
import { Account, Passkey } from '../../entities/index.js';
import { recordEvent } from '../audit/recordEvent.js';
import { clock } from '../shared/clock.js';
import type { Locale } from '../shared/i18n.js';
import { issueRecoveryCodes } from './recoveryCodes.js';

export type CreateAccountResult = { ok: true; account: Account; recoveryCodes: string[] } | { ok: false; reason: 'email_taken' };

/**
 * Creates the account with its first passkey and ten recovery codes, all or nothing: call it
 * inside a transaction (`db` is that transaction's manager).
 */
export async function createAccount(opts: { db: EntityManager; pepper: string; email: string; passkey: Passkey; locale: Locale }): Promise<CreateAccountResult> {
  const accounts = opts.db.getRepository(Account);
  if (await accounts.existsBy({ email: opts.email })) return { ok: false, reason: 'email_taken' };
  const now = clock.now();
  const account = accounts.create({
    id: opts.passkey.accountId, email: opts.email, status: 'active', disabledAt: null, emailConfirmedAt: now,
    failedAttempts: 0, lockedUntil: null, locale: opts.locale, createdAt: now,
  });
  await accounts.insert(account);
  await opts.db.getRepository(Passkey).insert({ ...opts.passkey, lastUsedAt: now });
  const recoveryCodes = await issueRecoveryCodes({ db: opts.db, pepper: opts.pepper, accountId: account.id });
  await recordEvent({ db: opts.db, accountId: account.id, type: 'email_confirmed' });
  await recordEvent({ db: opts.db, accountId: account.id, type: 'account_created' });
  await recordEvent({ db: opts.db, accountId: account.id, type: 'passkey_added', details: { name: opts.passkey.name, attestation: opts.passkey.attestation } });
  return { ok: true, account, recoveryCodes };
}

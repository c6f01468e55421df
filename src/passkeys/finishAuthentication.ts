import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { EntityManager } from 'typeorm';
import { Account, Passkey } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { entityColumns, hydrateEntity, sqlDialect } from '../shared/sqlValues.js';
import { type RelyingParty, takeChallenge } from './challenges.js';

export type FinishAuthenticationResult =
  | { ok: true; accountId: string; passkey: Passkey }
  | { ok: false; reason: 'no_challenge' | 'unknown_credential' | 'wrong_account' | 'not_verified' | 'disabled'; accountId?: string };

/** A credential and the account it belongs to, in one statement (every sign-in asks). */
async function passkeyWithAccount(db: EntityManager, credentialId: string): Promise<{ passkey: Passkey; account: Account } | undefined> {
  const { q } = sqlDialect(db);
  const row = ((await db.query(
    `SELECT ${entityColumns(db, Passkey, 'p')}, ${entityColumns(db, Account, 'a')} FROM ${q('passkeys')} ${q('p')} JOIN ${q('accounts')} ${q('a')} ON ${q('a')}.${q('id')} = ${q('p')}.${q('account_id')} WHERE ${q('p')}.${q('id')} = ?`,
    [credentialId],
  )) as Array<Record<string, unknown>>)[0];
  return row ? { passkey: hydrateEntity(db, Passkey, row, 'p'), account: hydrateEntity(db, Account, row, 'a') } : undefined;
}

/**
 * Verifies a passkey assertion against this flow's challenge (single use): the credential must
 * exist, belong to the expected account (if one was named), carry user verification, a valid
 * signature and a sign count that did not go backwards.
 *
 * Nothing here counts failures against the account or holds a valid assertion back: an
 * assertion cannot be guessed, so whoever holds the passkey always gets in, whatever anyone else
 * tried against the account (NIST SP 800-63B-4 §3.2.2 asks to throttle guessable authenticators;
 * a stranger's failures must not lock the owner out). Callers count failures per source.
 */
export async function finishAuthentication(opts: {
  db: EntityManager;
  rp: RelyingParty;
  bindingId: string;
  response: AuthenticationResponseJSON;
}): Promise<FinishAuthenticationResult> {
  const challenge = await takeChallenge({ db: opts.db, store: opts.rp.challenges, bindingId: opts.bindingId, purpose: 'authenticate' });
  if (!challenge) return { ok: false, reason: 'no_challenge' };
  const credentialId = typeof opts.response?.id === 'string' ? opts.response.id : '';
  const found = credentialId ? await passkeyWithAccount(opts.db, credentialId) : undefined;
  if (!found) return { ok: false, reason: 'unknown_credential' };
  const { passkey, account } = found;
  if (challenge.accountId && challenge.accountId !== passkey.accountId) return { ok: false, reason: 'wrong_account' };
  const userHandle = opts.response.response?.userHandle;
  if (userHandle && Buffer.from(userHandle, 'base64url').toString('utf8') !== passkey.accountId) {
    return { ok: false, reason: 'wrong_account' };
  }

  let info;
  try {
    const verification = await verifyAuthenticationResponse({
      response: opts.response,
      expectedChallenge: challenge.challenge,
      expectedOrigin: opts.rp.origin,
      expectedRPID: opts.rp.rpId,
      requireUserVerification: true,
      credential: {
        id: passkey.id,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: passkey.signCount,
        transports: JSON.parse(passkey.transports),
      },
    });
    if (!verification.verified) throw new Error('not verified');
    info = verification.authenticationInfo;
  } catch {
    return { ok: false, reason: 'not_verified', accountId: account.id };
  }
  // Only someone holding the passkey learns that its account is disabled.
  if (account.status !== 'active') return { ok: false, reason: 'disabled', accountId: account.id };
  // Guard the counter in the update too, so two racing assertions cannot both move it.
  const res = await opts.db.getRepository(Passkey).createQueryBuilder().update()
    .set({ signCount: info.newCounter, backedUp: info.credentialBackedUp, lastUsedAt: clock.now() })
    .where('id = :id AND (sign_count < :n OR (sign_count = 0 AND :n = 0))', { id: passkey.id, n: info.newCounter })
    .execute();
  if (!res.affected) return { ok: false, reason: 'not_verified', accountId: account.id };
  passkey.signCount = info.newCounter;
  passkey.backedUp = info.credentialBackedUp;
  return { ok: true, accountId: account.id, passkey };
}

import { type RegistrationResponseJSON, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { EntityManager } from 'typeorm';
import { Passkey } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { type RelyingParty, takeChallenge } from './challenges.js';
import { SUPPORTED_ALGS } from './startRegistration.js';

export type FinishRegistrationResult =
  | { ok: true; accountId: string; passkey: Passkey }
  | { ok: false; reason: 'no_challenge' | 'not_verified' | 'already_registered' };

/**
 * Verifies a new passkey against the challenge of this flow (single use) and returns the
 * credential, not yet saved: the caller saves it with the account change it belongs to.
 */
export async function finishRegistration(opts: {
  db: EntityManager;
  rp: RelyingParty;
  bindingId: string;
  response: RegistrationResponseJSON;
  name: string;
}): Promise<FinishRegistrationResult> {
  const challenge = await takeChallenge({ db: opts.db, bindingId: opts.bindingId, purpose: 'register' });
  if (!challenge?.accountId) return { ok: false, reason: 'no_challenge' };
  let info;
  try {
    const verification = await verifyRegistrationResponse({
      response: opts.response,
      expectedChallenge: challenge.challenge,
      expectedOrigin: opts.rp.origin,
      expectedRPID: opts.rp.rpId,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGS,
    });
    if (!verification.verified || !verification.registrationInfo) return { ok: false, reason: 'not_verified' };
    info = verification.registrationInfo;
  } catch {
    return { ok: false, reason: 'not_verified' };
  }
  const { credential } = info;
  if (await opts.db.getRepository(Passkey).existsBy({ id: credential.id })) return { ok: false, reason: 'already_registered' };
  const passkey = new Passkey();
  Object.assign(passkey, {
    id: credential.id,
    accountId: challenge.accountId,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    signCount: credential.counter,
    transports: JSON.stringify(credential.transports ?? opts.response.response.transports ?? []),
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
    name: opts.name,
    createdAt: clock.now(),
    lastUsedAt: null,
  } satisfies Partial<Passkey>);
  return { ok: true, accountId: challenge.accountId, passkey };
}

import { generateRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { EntityManager } from 'typeorm';
import { Passkey } from '../../entities/index.js';
import { type RelyingParty, storeChallenge } from './challenges.js';

/** COSE algorithms we accept: ES256, EdDSA, RS256. */
export const SUPPORTED_ALGS = [-7, -8, -257];

/**
 * Options for creating a passkey: discoverable (resident key), user verification required,
 * `direct` attestation — only an attestation from a hardware-protected model in the operator's
 * trust store lets a passkey count for AAL3 (finishRegistration.ts); a browser may still send
 * none. `accountId` is the WebAuthn user handle (for a new account, the id it will get).
 */
export async function startRegistration(opts: {
  db: EntityManager;
  rp: RelyingParty;
  bindingId: string;
  accountId: string;
  userName: string;
  userDisplayName: string;
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await opts.db.getRepository(Passkey).find({ where: { accountId: opts.accountId }, select: { id: true, transports: true } });
  const options = await generateRegistrationOptions({
    rpName: opts.rp.rpName,
    rpID: opts.rp.rpId,
    userID: new TextEncoder().encode(opts.accountId),
    userName: opts.userName,
    userDisplayName: opts.userDisplayName,
    attestationType: 'direct',
    timeout: 5 * 60 * 1000,
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGS,
  });
  await storeChallenge({ db: opts.db, store: opts.rp.challenges, bindingId: opts.bindingId, purpose: 'register', challenge: options.challenge, accountId: opts.accountId });
  return options;
}

import { generateAuthenticationOptions, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { EntityManager } from 'typeorm';
import { Passkey } from '../../entities/index.js';
import { type RelyingParty, storeChallenge } from './challenges.js';
import type { AttestationTrustStore } from './loadAttestationTrustStore.js';
import { meetsAal3 } from './passkeyAssurance.js';

/**
 * Options for signing in. Without `accountId` the browser offers any discoverable passkey for
 * this site (conditional UI); with it (email-first, re-authentication) only that account's.
 */
export async function startAuthentication(opts: {
  db: EntityManager;
  rp: RelyingParty;
  bindingId: string;
  accountId?: string | undefined;
  /** Offer only the passkeys that meet AAL3 under this trust store (AAL3 step-up). */
  aal3Under?: AttestationTrustStore | undefined;
  /**
   * List the account's passkeys in `allowCredentials` (default). Off for an address typed by
   * someone not signed in: the list would tell a stranger the address has an account, and
   * every passkey is discoverable, so the browser finds it without the list.
   */
  listCredentials?: boolean;
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const trust = opts.aal3Under;
  const allow = opts.accountId && opts.listCredentials !== false
    ? (await opts.db.getRepository(Passkey).find({
      where: { accountId: opts.accountId, ...(trust ? { backupEligible: false, attestation: 'trusted' } : {}) },
      select: { id: true, transports: true, aaguid: true, backupEligible: true, attestation: true, attestationRoot: true },
    })).filter((passkey) => !trust || meetsAal3({ passkey, trust }))
    : [];
  const options = await generateAuthenticationOptions({
    rpID: opts.rp.rpId,
    userVerification: 'required',
    timeout: 5 * 60 * 1000,
    allowCredentials: allow.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) })),
  });
  await storeChallenge({ db: opts.db, store: opts.rp.challenges, bindingId: opts.bindingId, purpose: 'authenticate', challenge: options.challenge, accountId: opts.accountId ?? null });
  return options;
}

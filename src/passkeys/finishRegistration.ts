import { type RegistrationResponseJSON, verifyRegistrationResponse } from '@simplewebauthn/server';
import { decodeAttestationObject, isoCBOR } from '@simplewebauthn/server/helpers';
import type { EntityManager } from 'typeorm';
import { Passkey } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { type RelyingParty, takeChallenge } from './challenges.js';
import { type AttestationOutcome, judgeAttestation } from './judgeAttestation.js';
import type { AttestationTrustStore } from './loadAttestationTrustStore.js';
import { SUPPORTED_ALGS } from './startRegistration.js';

export type FinishRegistrationResult =
  | { ok: true; accountId: string; passkey: Passkey }
  | { ok: false; reason: 'no_challenge' | 'not_verified' | 'already_registered' };

/**
 * Attestation formats whose statements are checked. @simplewebauthn/server checks the others
 * against its built-in roots and then fetches the revocation lists the certificates name —
 * for `android-key` even from a root the client itself sends — which would let anyone make
 * OneDoor fetch a URL of their choosing. Their statements are set aside unread, as `none`.
 */
const CHECKED_FORMATS = new Set(['none', 'packed', 'tpm', 'fido-u2f']);

type CBORValue = Parameters<typeof isoCBOR.encode>[0];

/** The response with its attestation statement removed: what the browser sends for `none`. */
function withoutAttestation(response: RegistrationResponseJSON, authData: Uint8Array): RegistrationResponseJSON {
  const attestationObject = isoCBOR.encode(new Map<string, CBORValue>([['fmt', 'none'], ['attStmt', new Map<string, CBORValue>()], ['authData', authData]]));
  return { ...response, response: { ...response.response, attestationObject: Buffer.from(attestationObject).toString('base64url') } };
}

/**
 * Verifies a new passkey against the challenge of this flow (single use) and returns the
 * credential, not yet saved: the caller saves it with the account change it belongs to. The
 * attestation is judged against the operator's trust store and recorded; a missing, unchecked,
 * untrusted or broken attestation never stops a registration (the client could as well have
 * sent none), it only keeps the passkey from counting for AAL3.
 */
export async function finishRegistration(opts: {
  db: EntityManager;
  rp: RelyingParty;
  bindingId: string;
  response: RegistrationResponseJSON;
  name: string;
  trust: AttestationTrustStore;
}): Promise<FinishRegistrationResult> {
  const challenge = await takeChallenge({ db: opts.db, store: opts.rp.challenges, bindingId: opts.bindingId, purpose: 'register' });
  if (!challenge?.accountId) return { ok: false, reason: 'no_challenge' };
  let fmt: string, authData: Uint8Array, x5c: Uint8Array[] | undefined;
  try {
    const decoded = decodeAttestationObject(Buffer.from(opts.response.response.attestationObject, 'base64url'));
    fmt = String(decoded.get('fmt'));
    authData = decoded.get('authData');
    x5c = decoded.get('attStmt')?.get('x5c');
    if (!(authData instanceof Uint8Array)) return { ok: false, reason: 'not_verified' };
  } catch {
    return { ok: false, reason: 'not_verified' };
  }
  const verify = async (response: RegistrationResponseJSON) => {
    try {
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: opts.rp.origin,
        expectedRPID: opts.rp.rpId,
        requireUserPresence: true,
        requireUserVerification: true,
        supportedAlgorithmIDs: SUPPORTED_ALGS,
      });
      return verification.verified ? verification.registrationInfo : undefined;
    } catch {
      return undefined;
    }
  };
  const checked = CHECKED_FORMATS.has(fmt);
  let info = checked ? await verify(opts.response) : undefined;
  let judged: { attestation: AttestationOutcome; root: string | null };
  if (info) {
    judged = judgeAttestation({ trust: opts.trust, fmt, x5c, aaguid: info.aaguid, at: clock.now() });
  } else {
    info = await verify(withoutAttestation(opts.response, authData));
    judged = { attestation: checked ? 'invalid' : 'unsupported', root: null };
  }
  if (!info) return { ok: false, reason: 'not_verified' };

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
    attestation: judged.attestation,
    attestationRoot: judged.root,
    name: opts.name,
    createdAt: clock.now(),
    lastUsedAt: null,
  } satisfies Partial<Passkey>);
  return { ok: true, accountId: challenge.accountId, passkey };
}

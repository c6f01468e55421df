import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { issueAttestationCertificate, type TestCa } from './testCertificates.js';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/**
 * A software WebAuthn authenticator plus the browser's part of the ceremony, in plain Node: it
 * turns the server's options JSON into the response JSON @simplewebauthn/browser would send.
 * ES256 (P-256) keys; `none` attestation with a zero AAGUID, or — with `attestation` — a model
 * with an AAGUID and a batch key certified by a test CA, giving `packed` attestation with an
 * x5c chain (WebAuthn §8.2). Device-bound or synced with `backupEligible`. Knobs for negative tests (UV/UP off,
 * another origin or RP ID, a forged signature, a chosen sign count, a foreign challenge) stand in
 * for Chromium's `WebAuthn.setResponseOverrideBits`; export/import moves a credential to a
 * second authenticator (a clone, for sign-count tests).
 *
 * Spec: https://w3c.github.io/webauthn/#sctn-authenticator-data (layout and flags),
 * https://w3c.github.io/webauthn/#sctn-op-get-assertion (signature over authData || hash(clientData)).
 */

type CBORValue = Parameters<typeof isoCBOR.encode>[0];

/** COSE: kty EC2, alg ES256, crv P-256 (RFC 9053 §7.1, RFC 9052 §7). */
const COSE_ALG_ES256 = -7;

// Authenticator data flags (WebAuthn §6.1).
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

/** A credential in portable form: everything needed to use it from another authenticator. */
export interface SoftCredential {
  /** Credential id, base64url. */
  id: string;
  rpId: string;
  /** The WebAuthn user handle (options.user.id), base64url. */
  userHandle: string;
  /** PKCS#8 DER private key, base64url. */
  privateKey: string;
  signCount: number;
  backupEligible: boolean;
  backedUp: boolean;
}

interface StoredCredential extends Omit<SoftCredential, 'privateKey'> {
  key: KeyObject;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The COSE_Key map for an EC P-256 public key; integer keys, as CBOR requires for COSE. */
function coseKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new Error('expected an EC public key');
  return isoCBOR.encode(new Map<number, CBORValue>([
    [1, 2], // kty: EC2
    [3, COSE_ALG_ES256], // alg
    [-1, 1], // crv: P-256
    [-2, new Uint8Array(Buffer.from(jwk.x, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y, 'base64url'))],
  ]));
}

function clientData(opts: { type: 'webauthn.create' | 'webauthn.get'; challenge: string; origin: string }): Buffer {
  // Same member order as browsers serialize (WebAuthn §5.8.1.1).
  return Buffer.from(JSON.stringify({ type: opts.type, challenge: opts.challenge, origin: opts.origin, crossOrigin: false }), 'utf8');
}

export class SoftAuthenticator {
  readonly origin: string;
  readonly rpId: string;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly aaguid: string;
  readonly #credentials: StoredCredential[] = [];
  readonly #attestation: { key: KeyObject; x5c: Uint8Array[] } | undefined;

  constructor({ origin, rpId, backupEligible = false, backedUp = backupEligible, attestation }: {
    origin: string; rpId: string; backupEligible?: boolean; backedUp?: boolean;
    /**
     * Attest as a model: its AAGUID, the CA that certifies its batch key, and certificates to
     * append to x5c after the leaf and the CA's own chain (a forger appending a trusted root).
     */
    attestation?: { ca: TestCa; aaguid: string; appendCertificates?: Buffer[] };
  }) {
    this.origin = origin;
    this.rpId = rpId;
    this.backupEligible = backupEligible;
    this.backedUp = backedUp;
    this.aaguid = attestation?.aaguid ?? '00000000-0000-0000-0000-000000000000';
    if (attestation) {
      const batch = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const leaf = issueAttestationCertificate({ ca: attestation.ca, publicKey: batch.publicKey, aaguid: attestation.aaguid });
      this.#attestation = { key: batch.privateKey, x5c: [leaf, ...attestation.ca.chain, ...(attestation.appendCertificates ?? [])].map((c) => new Uint8Array(c)) };
    }
  }

  /** The credentials this authenticator holds, in portable form (copies). */
  get credentials(): SoftCredential[] {
    return this.#credentials.map((c) => this.#export(c));
  }

  /** navigator.credentials.create(): a new ES256 credential, attested (`packed`) or not (`none`). */
  createCredential({
    options,
    userVerified = true,
    userPresent = true,
    origin,
    rpId,
    challengeOverride,
  }: {
    options: PublicKeyCredentialCreationOptionsJSON;
    userVerified?: boolean;
    userPresent?: boolean;
    origin?: string;
    rpId?: string;
    challengeOverride?: string;
  }): RegistrationResponseJSON {
    if (!options.pubKeyCredParams.some((p) => p.alg === COSE_ALG_ES256)) {
      throw Object.assign(new Error('authenticator supports only ES256'), { name: 'NotSupportedError' });
    }
    const scopeRpId = rpId ?? options.rp.id ?? this.rpId;
    // An authenticator refuses to create a second credential the RP already knows (§6.3.2 step 3).
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
    if (this.#credentials.some((c) => c.rpId === scopeRpId && excluded.has(c.id))) {
      throw Object.assign(new Error('a credential in excludeCredentials is present on this authenticator'), { name: 'InvalidStateError' });
    }

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credentialId = randomBytes(16);
    const stored: StoredCredential = {
      id: b64url(credentialId),
      rpId: scopeRpId,
      userHandle: options.user.id,
      key: privateKey,
      signCount: 0,
      backupEligible: this.backupEligible,
      backedUp: this.backedUp,
    };

    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      sha256(scopeRpId),
      Buffer.from([this.#flags(stored, { userPresent, userVerified }) | FLAG_AT]),
      uint32(stored.signCount),
      Buffer.from(this.aaguid.replace(/-/g, ''), 'hex'),
      idLength,
      credentialId,
      coseKey(publicKey),
    ]);
    const clientDataJSON = clientData({ type: 'webauthn.create', challenge: challengeOverride ?? options.challenge, origin: origin ?? this.origin });
    // Packed attestation (WebAuthn §8.2): the batch key signs authData || hash(clientDataJSON).
    const attestation = this.#attestation;
    const attStmt = attestation
      ? new Map<string, CBORValue>([
        ['alg', COSE_ALG_ES256],
        ['sig', new Uint8Array(sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), { key: attestation.key, dsaEncoding: 'der' }))],
        ['x5c', attestation.x5c],
      ])
      : new Map<string, CBORValue>();
    const attestationObject = isoCBOR.encode(new Map<string, CBORValue>([
      ['fmt', attestation ? 'packed' : 'none'],
      ['attStmt', attStmt],
      ['authData', new Uint8Array(authData)],
    ]));

    this.#credentials.push(stored);
    return {
      id: stored.id,
      rawId: stored.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ['internal', 'hybrid'],
        publicKeyAlgorithm: COSE_ALG_ES256,
        publicKey: b64url(publicKey.export({ format: 'der', type: 'spki' })),
        authenticatorData: b64url(authData),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(): an assertion from one of this authenticator's credentials. */
  getAssertion({
    options,
    credentialId,
    userVerified = true,
    userPresent = true,
    origin,
    rpId,
    counter,
    badSignature = false,
    challengeOverride,
  }: {
    options: PublicKeyCredentialRequestOptionsJSON;
    credentialId?: string;
    userVerified?: boolean;
    userPresent?: boolean;
    origin?: string;
    rpId?: string;
    /** The sign count to report (and keep); without it the stored count goes up by one. */
    counter?: number;
    badSignature?: boolean;
    challengeOverride?: string;
  }): AuthenticationResponseJSON {
    const cred = this.#pick({ options, credentialId });
    cred.signCount = counter ?? cred.signCount + 1;

    const authData = Buffer.concat([
      sha256(rpId ?? options.rpId ?? cred.rpId),
      Buffer.from([this.#flags(cred, { userPresent, userVerified })]),
      uint32(cred.signCount),
    ]);
    const clientDataJSON = clientData({ type: 'webauthn.get', challenge: challengeOverride ?? options.challenge, origin: origin ?? this.origin });
    // ECDSA over SHA-256, DER-encoded (WebAuthn §6.5.6 / §8.1): Node's default for EC keys.
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), { key: cred.key, dsaEncoding: 'der' });
    // Flip a bit of the last byte (inside `s`): still well-formed DER, no longer a valid signature.
    if (badSignature) signature[signature.length - 1] = signature[signature.length - 1]! ^ 0x01;

    return {
      id: cred.id,
      rawId: cred.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: cred.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** A credential in portable form, to import into another authenticator. */
  exportCredential({ credentialId }: { credentialId: string }): SoftCredential {
    const cred = this.#credentials.find((c) => c.id === credentialId);
    if (!cred) throw new Error(`no credential ${credentialId} on this authenticator`);
    return this.#export(cred);
  }

  /** Adds (or replaces) a credential exported from another authenticator. */
  importCredential({ credential }: { credential: SoftCredential }): void {
    const stored: StoredCredential = {
      id: credential.id,
      rpId: credential.rpId,
      userHandle: credential.userHandle,
      signCount: credential.signCount,
      backupEligible: credential.backupEligible,
      backedUp: credential.backedUp,
      key: createPrivateKey({ key: Buffer.from(credential.privateKey, 'base64url'), format: 'der', type: 'pkcs8' }),
    };
    const at = this.#credentials.findIndex((c) => c.id === stored.id);
    if (at >= 0) this.#credentials[at] = stored;
    else this.#credentials.push(stored);
  }

  /** The public key of a credential as COSE, base64url (what the server stores). */
  publicKeyOf({ credentialId }: { credentialId: string }): string {
    const cred = this.#credentials.find((c) => c.id === credentialId);
    if (!cred) throw new Error(`no credential ${credentialId} on this authenticator`);
    return b64url(coseKey(createPublicKey(cred.key)));
  }

  #flags(cred: Pick<StoredCredential, 'backupEligible' | 'backedUp'>, opts: { userPresent: boolean; userVerified: boolean }): number {
    return (opts.userPresent ? FLAG_UP : 0) | (opts.userVerified ? FLAG_UV : 0)
      | (cred.backupEligible ? FLAG_BE : 0) | (cred.backedUp ? FLAG_BS : 0);
  }

  /** Explicit id first; else the first credential for this RP the options allow; else any for this RP. */
  #pick({ options, credentialId }: { options: PublicKeyCredentialRequestOptionsJSON; credentialId: string | undefined }): StoredCredential {
    if (credentialId !== undefined) {
      const cred = this.#credentials.find((c) => c.id === credentialId);
      if (!cred) throw new Error(`no credential ${credentialId} on this authenticator`);
      return cred;
    }
    const scopeRpId = options.rpId ?? this.rpId;
    const forRp = this.#credentials.filter((c) => c.rpId === scopeRpId);
    const allow = options.allowCredentials ?? [];
    const cred = allow.length
      ? forRp.find((c) => allow.some((a) => a.id === c.id))
      : forRp[0];
    if (!cred) throw Object.assign(new Error('no matching credential on this authenticator'), { name: 'NotAllowedError' });
    return cred;
  }

  #export(cred: StoredCredential): SoftCredential {
    const { key, ...rest } = cred;
    return { ...rest, privateKey: b64url(key.export({ format: 'der', type: 'pkcs8' })) };
  }
}

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

/**
 * The bench's authenticator: one P-256 key shared by every seeded passkey (so a million
 * accounts cost one key), distinct credential ids and user handles per account, and assertions
 * built exactly as a platform authenticator and the browser would (WebAuthn §6.1, §7.2):
 * signature over authenticatorData || SHA-256(clientDataJSON), UP and UV set, counter 0
 * (authenticators without a counter), so the server does all the checks it does for a person.
 */
export class BenchPasskey {
  readonly #privateKey: KeyObject;
  /** COSE_Key (EC2, ES256, P-256), base64url: what OneDoor stores per passkey. */
  readonly publicKeyCose: string;
  readonly origin: string;
  readonly #rpIdHash: Buffer;

  constructor(opts: { origin: string; rpId: string }) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicKeyCose = Buffer.from(isoCBOR.encode(new Map<number, number | Uint8Array>([
      [1, 2], [3, -7], [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]))).toString('base64url');
    this.origin = opts.origin;
    this.#rpIdHash = createHash('sha256').update(opts.rpId).digest();
  }

  static credentialId(n: number): string {
    return Buffer.from(`bench-passkey-${n}`).toString('base64url');
  }

  static accountId(n: number): string {
    return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  }

  /** navigator.credentials.get() for seeded account `n`, answering `challenge`. */
  assert(opts: { n: number; challenge: string }): AuthenticationResponseJSON {
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: opts.challenge, origin: this.origin, crossOrigin: false }));
    const authenticatorData = Buffer.concat([this.#rpIdHash, Buffer.from([0x01 | 0x04]), Buffer.alloc(4)]);
    const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), this.#privateKey);
    const id = BenchPasskey.credentialId(opts.n);
    return {
      id, rawId: id, type: 'public-key', clientExtensionResults: {}, authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: Buffer.from(BenchPasskey.accountId(opts.n)).toString('base64url'),
      },
    };
  }
}

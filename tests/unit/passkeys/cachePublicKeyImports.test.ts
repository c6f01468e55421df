import { randomBytes } from 'node:crypto';
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import { BenchPasskey } from '../../../bench/lib/benchPasskey.js';
import { cachePublicKeyImports, MAX_KEYS } from '../../../src/passkeys/cachePublicKeyImports.js';

const origin = 'https://onedoor.example';
const rpId = 'onedoor.example';

async function verify(passkey: BenchPasskey, opts: { n: number; tamper?: boolean }) {
  const challenge = randomBytes(32).toString('base64url');
  const response = passkey.assert({ n: opts.n, challenge });
  if (opts.tamper) response.response.signature = Buffer.from(randomBytes(70)).toString('base64url');
  const credential = { id: response.id, publicKey: new Uint8Array(Buffer.from(passkey.publicKeyCose, 'base64url')), counter: 0 };
  return verifyAuthenticationResponse({ response, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpId, requireUserVerification: true, credential })
    .then((v) => v.verified, () => false);
}

test('when one passkey signs in again and again, then its public key is imported once and every assertion is still checked', async () => {
  const cache = cachePublicKeyImports();
  const passkey = new BenchPasskey({ origin, rpId });
  const before = cache.imports;
  for (let i = 0; i < 5; i += 1) expect(await verify(passkey, { n: 1 })).toBe(true);
  // Fails if verifyAuthenticationResponse imports the key itself each time (the cache bypassed).
  expect(cache.imports - before).toBe(1);
  // A bad signature under the cached key is refused.
  expect(await verify(passkey, { n: 1, tamper: true })).toBe(false);
  // Another key is its own entry.
  expect(await verify(new BenchPasskey({ origin, rpId }), { n: 2 })).toBe(true);
  expect(cache.imports - before).toBe(2);
  expect(cachePublicKeyImports()).toBe(cache);
});

test('when keys are imported for anything but verifying with a public JWK, then nothing is kept; the cache holds at most MAX_KEYS', async () => {
  const calls: unknown[][] = [];
  const fake = { importKey: async (...args: unknown[]) => { calls.push(args); return { n: calls.length } as unknown as CryptoKey; } } as unknown as SubtleCrypto;
  const cache = cachePublicKeyImports(fake);
  const pub = { kty: 'EC', crv: 'P-256', x: 'x1', y: 'y1' };
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  await fake.importKey('jwk', pub, alg, false, ['verify']);
  await fake.importKey('jwk', { ...pub }, alg, false, ['verify']);
  expect(calls).toHaveLength(1);
  await fake.importKey('jwk', { ...pub, d: 'secret' }, alg, false, ['sign']);
  await fake.importKey('jwk', { ...pub, d: 'secret' }, alg, false, ['sign']);
  await fake.importKey('jwk', pub, alg, true, ['verify']);
  await fake.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  await fake.importKey('jwk', { kty: 'oct', k: 'c2VjcmV0' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  expect(calls).toHaveLength(6);
  await fake.importKey('jwk', pub, { name: 'ECDSA', namedCurve: 'P-384' }, false, ['verify']);
  expect(calls).toHaveLength(7);
  for (let i = 0; i < MAX_KEYS + 5; i += 1) await fake.importKey('jwk', { ...pub, x: `x-${i}` }, alg, false, ['verify']);
  expect(cache.size).toBe(MAX_KEYS);
  // The oldest went first: the very first key is imported again.
  await fake.importKey('jwk', pub, alg, false, ['verify']);
  expect(calls).toHaveLength(7 + MAX_KEYS + 5 + 1);
});

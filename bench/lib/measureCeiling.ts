import { generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import { BenchPasskey } from './benchPasskey.js';

export interface CeilingResult {
  operation: string;
  perSecond: number;
}

/** Runs `op` for about `ms` on this thread (one core) and returns operations per second. */
async function rate(ms: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < 50; i += 1) await op(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 20; i += 1) await op();
    n += 20;
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
}

/**
 * The crypto ceiling on one core: what no implementation can beat. A sign-in costs at least
 * one ES256 verify (the passkey), one client-assertion verify and one ID-token signature; a
 * token request one verify and, for JWTs, one signature. Signing input: a typical JWS.
 */
export async function measureCeiling(ms: number): Promise<CeilingResult[]> {
  const input = Buffer.from(`${randomBytes(60).toString('base64url')}.${randomBytes(220).toString('base64url')}`);
  const pairs: Array<{ name: string; keys: { privateKey: KeyObject; publicKey: KeyObject }; hash: string | null; opts?: { dsaEncoding: 'ieee-p1363' } }> = [
    { name: 'ES256', keys: generateKeyPairSync('ec', { namedCurve: 'P-256' }), hash: 'sha256', opts: { dsaEncoding: 'ieee-p1363' } },
    { name: 'RS256', keys: generateKeyPairSync('rsa', { modulusLength: 2048 }), hash: 'sha256' },
    { name: 'EdDSA', keys: generateKeyPairSync('ed25519'), hash: null },
  ];
  const out: CeilingResult[] = [];
  for (const p of pairs) {
    const sig = sign(p.hash, input, { key: p.keys.privateKey, ...p.opts });
    out.push({ operation: `${p.name} sign`, perSecond: await rate(ms, () => sign(p.hash, input, { key: p.keys.privateKey, ...p.opts })) });
    out.push({ operation: `${p.name} verify`, perSecond: await rate(ms, () => { if (!verify(p.hash, input, { key: p.keys.publicKey, ...p.opts }, sig)) throw new Error('bad signature'); }) });
  }

  const origin = 'https://onedoor.bench.example';
  const passkey = new BenchPasskey({ origin, rpId: 'onedoor.bench.example' });
  const challenge = randomBytes(32).toString('base64url');
  const response = passkey.assert({ n: 1, challenge });
  const credential = { id: response.id, publicKey: new Uint8Array(Buffer.from(passkey.publicKeyCose, 'base64url')), counter: 0 };
  out.push({
    operation: 'verifyAuthenticationResponse',
    perSecond: await rate(ms, async () => {
      const v = await verifyAuthenticationResponse({ response, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: 'onedoor.bench.example', requireUserVerification: true, credential });
      if (!v.verified) throw new Error('assertion not verified');
    }),
  });
  return out;
}

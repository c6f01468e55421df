import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { KeysProblemReason } from '../../src/oidc/checkSigningKeys.js';

/** A private JWK Set file that OneDoor must refuse, and why. */
export interface BadJwksFile {
  kind: string;
  /** The reason code OneDoor reports for it. */
  reason: KeysProblemReason;
  /** Index of the key at fault, when there is one. */
  index?: number;
  text: string;
  /** Every private value in the file (`d`, and RSA's `p`, `q`…): none may ever be printed. */
  secrets: string[];
}

async function key(alg: 'ES256' | 'RS256' | 'ES384', overrides: Partial<JWK> = {}): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig', ...overrides };
}

const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const secretsOf = (keys: JWK[]) => keys.flatMap((k) => PRIVATE.map((p) => (k as Record<string, unknown>)[p]).filter((v): v is string => typeof v === 'string'));

/**
 * One file of each kind the review found (or that an operator makes by hand): every one of them
 * passes a look at its shape ("keys", "kty", "d", "kid", one ES256 and one RS256 `alg`) except
 * the last three, and each holds fresh private keys the test can look for in the output.
 */
export async function badJwksFiles(): Promise<BadJwksFile[]> {
  const es = await key('ES256');
  const rs = await key('RS256');
  const files: BadJwksFile[] = [];
  const add = (kind: string, reason: KeysProblemReason, keys: JWK[], index?: number) =>
    files.push({ kind, reason, ...(index === undefined ? {} : { index }), text: `${JSON.stringify({ keys }, null, 2)}\n`, secrets: secretsOf(keys) });

  const twin = await key('ES256', { kid: es.kid! });
  add('two keys with the same kid', 'duplicate_kid', [es, rs, twin], 2);
  const { p: _p, q: _q, ...noPrimes } = await key('RS256');
  add('an RSA private key without p and q', 'incomplete_rsa_key', [es, noPrimes], 1);
  add('an EC P-256 key labelled RS256', 'alg_mismatch', [es, { ...(await key('ES256')), alg: 'RS256' }], 1);
  add('a P-384 key labelled ES256', 'alg_mismatch', [{ ...(await key('ES384')), alg: 'ES256' }, rs], 0);
  const other = await key('ES256');
  add('an EC key whose private part belongs to another key', 'key_mismatch', [{ ...es, d: other.d! }, rs], 0);
  add('no ES256 key', 'missing_es256', [rs]);
  files.push({ kind: 'not JSON', reason: 'not_json', text: `keys: ${es.d}\n`, secrets: [es.d!] });
  const whole = `${JSON.stringify({ keys: [es, rs] }, null, 2)}\n`;
  // Cut inside the RSA key's "d", as a copy still in progress leaves it.
  const cut = whole.indexOf(rs.d!) + 40;
  files.push({ kind: 'half written', reason: 'not_json', text: whole.slice(0, cut), secrets: secretsOf([es, rs]) });
  return files;
}

/**
 * Which secrets (or any 12 characters in a row of one) occur in `text`, and whether a JWK's
 * "d" member is printed at all. Names, not values, so a failing test does not print them again.
 */
export function keyMaterialIn(text: string, secrets: string[]): string[] {
  const found: string[] = [];
  if (/"d"\s*:/.test(text) || /\bd: '/.test(text)) found.push('a "d" member');
  secrets.forEach((s, i) => {
    for (let at = 0; at + 12 <= s.length; at += 1) {
      if (text.includes(s.slice(at, at + 12))) { found.push(`secret #${i}`); return; }
    }
  });
  return found;
}

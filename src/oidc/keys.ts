import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type Kek, loadOrCreateKek } from '../proofing/vault.js';

/**
 * Signing keys and cookie secrets live in KEYS_DIR, outside the database and never in git.
 * `jwks.json` is a private JWK Set: the first key of each algorithm signs, every key is
 * published, so tokens signed before a rotation keep verifying until the old key is removed.
 */
export interface KeyMaterial {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** Never rotated: changing it would change every pairwise subject and invalidate stored hashes. */
  secrets: { pairwiseSalt: string; pepper: string };
  /** Key-encryption key for personal data (envelope encryption); see src/proofing/vault.ts. */
  kek: Kek;
}

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;

const JWKS_FILE = 'jwks.json';
const COOKIES_FILE = 'cookies.json';
const SECRETS_FILE = 'secrets.json';

async function newSigningKey(alg: (typeof SIGNING_ALGS)[number]): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = alg;
  jwk.use = 'sig';
  return jwk;
}

function writeSecret(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${path.basename(file)} in KEYS_DIR is not valid JSON`, { cause: err });
  }
}

function validateJwks(jwks: unknown): { keys: JWK[] } {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${JWKS_FILE}: "keys" must be a non-empty array`);
  for (const [i, k] of keys.entries()) {
    const key = k as JWK;
    if (!key || typeof key !== 'object' || typeof key.kty !== 'string' || typeof key.d !== 'string' || typeof key.kid !== 'string') {
      throw new Error(`${JWKS_FILE}: keys[${i}] must be a private JWK with "kty", "d" and "kid"`);
    }
  }
  for (const alg of SIGNING_ALGS) {
    if (!keys.some((k: JWK) => k.alg === alg)) throw new Error(`${JWKS_FILE}: needs at least one ${alg} key`);
  }
  return { keys: keys as JWK[] };
}

function validate(jwks: unknown, cookies: unknown, secrets: unknown): Omit<KeyMaterial, 'kek'> {
  const signing = validateJwks(jwks);
  if (!Array.isArray(cookies) || cookies.length === 0 || cookies.some((c) => typeof c !== 'string' || c.length < 32)) {
    throw new Error(`${COOKIES_FILE}: must be a non-empty array of secrets of 32+ characters`);
  }
  const s = secrets as { pairwiseSalt?: unknown; pepper?: unknown };
  for (const name of ['pairwiseSalt', 'pepper'] as const) {
    if (typeof s?.[name] !== 'string' || (s[name] as string).length < 32) throw new Error(`${SECRETS_FILE}: "${name}" must be a secret of 32+ characters`);
  }
  return { jwks: signing, cookieKeys: cookies as string[], secrets: { pairwiseSalt: s.pairwiseSalt as string, pepper: s.pepper as string } };
}

/** Reads the keys, generating development keys and cookie secrets on first start. */
export async function loadOrCreateKeys(keysDir: string, opts: { onCreate?: (m: string) => void } = {}): Promise<KeyMaterial> {
  fs.mkdirSync(keysDir, { recursive: true });
  const jwksFile = path.join(keysDir, JWKS_FILE);
  const cookiesFile = path.join(keysDir, COOKIES_FILE);
  if (!fs.existsSync(jwksFile)) {
    writeSecret(jwksFile, { keys: [await newSigningKey('ES256'), await newSigningKey('RS256')] });
    opts.onCreate?.(`generated development signing keys in ${jwksFile}`);
  }
  if (!fs.existsSync(cookiesFile)) {
    writeSecret(cookiesFile, [randomBytes(32).toString('base64url')]);
    opts.onCreate?.(`generated cookie secrets in ${cookiesFile}`);
  }
  const secretsFile = path.join(keysDir, SECRETS_FILE);
  if (!fs.existsSync(secretsFile)) {
    writeSecret(secretsFile, { pairwiseSalt: randomBytes(32).toString('base64url'), pepper: randomBytes(32).toString('base64url') });
    opts.onCreate?.(`generated the pairwise-subject salt and hashing pepper in ${secretsFile}`);
  }
  const kek = await loadOrCreateKek({ keysDir, ...(opts.onCreate ? { onCreate: opts.onCreate } : {}) });
  return { ...validate(readJson(jwksFile), readJson(cookiesFile), readJson(secretsFile)), kek };
}

/**
 * Reads and validates only the signing keys (what a rotation changes), for nodes that pick up
 * a rotation while running. Throws with a message naming the file when it is not usable.
 */
export function readSigningKeys(keysDir: string): { keys: JWK[] } {
  const jwks = readJson(path.join(keysDir, JWKS_FILE));
  return validateJwks(jwks);
}

/** Adds a new key for each algorithm in front of the old ones. Returns the new key ids. */
export async function rotateKeys(keysDir: string): Promise<string[]> {
  const current = await loadOrCreateKeys(keysDir);
  const fresh = await Promise.all(SIGNING_ALGS.map((alg) => newSigningKey(alg)));
  writeSecret(path.join(keysDir, JWKS_FILE), { keys: [...fresh, ...current.jwks.keys] });
  return fresh.map((k) => k.kid!);
}

/** Removes a key that no live token can still need. Refuses to remove an algorithm's last key. */
export async function removeKey(keysDir: string, kid: string): Promise<void> {
  const current = await loadOrCreateKeys(keysDir);
  const key = current.jwks.keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`kid: no key with id ${kid}`);
  const remaining = current.jwks.keys.filter((k) => k.kid !== kid);
  if (!remaining.some((k) => k.alg === key.alg)) throw new Error(`kid: ${kid} is the last ${key.alg} key; rotate first`);
  writeSecret(path.join(keysDir, JWKS_FILE), { keys: remaining });
}

/** Public parts of the keys, for listing. */
export function describeKeys(material: KeyMaterial): Array<{ kid: string; alg: string; signing: boolean }> {
  const seen = new Set<string>();
  return material.jwks.keys.map((k) => {
    const signing = !seen.has(k.alg!);
    seen.add(k.alg!);
    return { kid: k.kid!, alg: k.alg!, signing };
  });
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type Kek, loadOrCreateKek } from '../proofing/vault.js';
import { checkSigningKeys, type CheckSigningKeysResult, describeKeysProblem, type KeysProblem, SIGNING_ALGS, type SigningAlg } from './checkSigningKeys.js';

export { SIGNING_ALGS } from './checkSigningKeys.js';

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
  /**
   * Set by watchSigningKeys while KEYS_DIR/jwks.json has changed into something unusable (the
   * node keeps signing with `jwks`); /readyz reports it. Cleared by the next good reload.
   */
  reloadProblem?: KeysProblem | undefined;
}

/** A key file that cannot be used. The message names the file and the problem, never key material, and there is no `cause`. */
export class KeysFileError extends Error {
  override name = 'KeysFileError';
}

const JWKS_FILE = 'jwks.json';
const COOKIES_FILE = 'cookies.json';
const SECRETS_FILE = 'secrets.json';

async function newSigningKey(alg: SigningAlg): Promise<JWK> {
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

/**
 * No `cause`: JSON.parse's message quotes the text around the fault, which in these files is a
 * private key or a secret.
 */
function readJson(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new KeysFileError(`${path.basename(file)} in KEYS_DIR is not valid JSON`);
  }
}

/** Reads and checks KEYS_DIR/jwks.json (what a rotation changes), for start-up and running nodes. Never throws. */
export function readSigningKeys(keysDir: string): CheckSigningKeysResult {
  let text: string;
  try {
    text = fs.readFileSync(path.join(keysDir, JWKS_FILE), 'utf8');
  } catch {
    return { ok: false, problem: { reason: 'missing' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: { reason: 'not_json' } };
  }
  return checkSigningKeys(parsed);
}

/** The checked signing keys of KEYS_DIR, or a KeysFileError naming the file and the problem. */
function requireSigningKeys(keysDir: string): { keys: JWK[] } {
  const read = readSigningKeys(keysDir);
  if (!read.ok) throw new KeysFileError(describeKeysProblem(path.join(keysDir, JWKS_FILE), read.problem));
  return read.jwks;
}

/** Writes jwks.json only with a set that passes the check every running node applies. */
function writeSigningKeys(keysDir: string, jwks: { keys: JWK[] }): void {
  const checked = checkSigningKeys(jwks);
  if (!checked.ok) throw new KeysFileError(describeKeysProblem(path.join(keysDir, JWKS_FILE), checked.problem));
  writeSecret(path.join(keysDir, JWKS_FILE), jwks);
}

function validate(signing: { keys: JWK[] }, cookies: unknown, secrets: unknown): Omit<KeyMaterial, 'kek'> {
  if (!Array.isArray(cookies) || cookies.length === 0 || cookies.some((c) => typeof c !== 'string' || c.length < 32)) {
    throw new KeysFileError(`${COOKIES_FILE}: must be a non-empty array of secrets of 32+ characters`);
  }
  const s = secrets as { pairwiseSalt?: unknown; pepper?: unknown };
  for (const name of ['pairwiseSalt', 'pepper'] as const) {
    if (typeof s?.[name] !== 'string' || (s[name] as string).length < 32) throw new KeysFileError(`${SECRETS_FILE}: "${name}" must be a secret of 32+ characters`);
  }
  return { jwks: signing, cookieKeys: cookies as string[], secrets: { pairwiseSalt: s.pairwiseSalt as string, pepper: s.pepper as string } };
}

/**
 * Reads the keys, generating development keys and cookie secrets on first start. A file that
 * cannot be used throws a KeysFileError: one line naming the file and the problem.
 */
export async function loadOrCreateKeys(keysDir: string, opts: { onCreate?: (m: string) => void } = {}): Promise<KeyMaterial> {
  fs.mkdirSync(keysDir, { recursive: true });
  const jwksFile = path.join(keysDir, JWKS_FILE);
  const cookiesFile = path.join(keysDir, COOKIES_FILE);
  if (!fs.existsSync(jwksFile)) {
    writeSigningKeys(keysDir, { keys: [await newSigningKey('ES256'), await newSigningKey('RS256')] });
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
  return { ...validate(requireSigningKeys(keysDir), readJson(cookiesFile), readJson(secretsFile)), kek };
}

/** Adds a new key for each algorithm in front of the old ones. Returns the new key ids. */
export async function rotateKeys(keysDir: string): Promise<string[]> {
  const current = await loadOrCreateKeys(keysDir);
  const fresh = await Promise.all(SIGNING_ALGS.map((alg) => newSigningKey(alg)));
  writeSigningKeys(keysDir, { keys: [...fresh, ...current.jwks.keys] });
  return fresh.map((k) => k.kid!);
}

/** Removes a key that no live token can still need. Refuses to remove an algorithm's last key. */
export async function removeKey(keysDir: string, kid: string): Promise<void> {
  const current = await loadOrCreateKeys(keysDir);
  const key = current.jwks.keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`kid: no key with id ${kid}`);
  const remaining = current.jwks.keys.filter((k) => k.kid !== kid);
  if (!remaining.some((k) => k.alg === key.alg)) throw new Error(`kid: ${kid} is the last ${key.alg} key; rotate first`);
  writeSigningKeys(keysDir, { keys: remaining });
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

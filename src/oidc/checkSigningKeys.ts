import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { JWK } from 'jose';
import Provider from 'oidc-provider';
// The function oidc-provider's constructor runs on `jwks` (see watchSigningKeys.ts): applied to a
// scratch provider here, it refuses exactly what the real provider would refuse, without
// touching the real provider's keystore.
// @ts-expect-error no type declarations for oidc-provider's internal module
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * Why a private JWK Set cannot sign for OneDoor. Codes, not messages: they go to logs and
 * metrics as they are, and `describeKeysProblem` words them for people. Nothing here ever
 * carries a key or an error object (oidc-provider's and node's errors hold the key as `cause`,
 * JSON.parse's message quotes the text around the fault).
 */
export const KEYS_PROBLEMS = {
  missing: 'is missing',
  not_json: 'is not valid JSON (half written or hand edited?)',
  no_keys: '"keys" must be a non-empty array',
  not_private_key: 'must be a private JWK with "kty", "kid" and "d"',
  duplicate_kid: 'has the same "kid" as an earlier key',
  unsupported_alg: `"alg" must be one of ${SIGNING_ALGS.join(', ')}`,
  alg_mismatch: '"alg" does not fit the key type or curve',
  not_for_signing: '"use" must be "sig" (or absent)',
  incomplete_rsa_key: 'is an RSA private key without all of "n", "e", "d", "p", "q", "dp", "dq", "qi"',
  rsa_too_short: 'is an RSA key shorter than 2048 bits',
  key_mismatch: 'does not sign for its own public key (the private and public parts do not match)',
  rejected_by_provider: "is refused by oidc-provider's keystore",
  missing_es256: 'needs at least one ES256 key',
  missing_rs256: 'needs at least one RS256 key',
  unexpected: 'could not be checked (an unexpected error)',
} as const;

export type KeysProblemReason = keyof typeof KEYS_PROBLEMS;

/** What is wrong and where: `index` and `kid` name the key (both are public), never its parts. */
export interface KeysProblem {
  reason: KeysProblemReason;
  index?: number;
  kid?: string;
}

export type CheckSigningKeysResult = { ok: true; jwks: { keys: JWK[] } } | { ok: false; problem: KeysProblem };

// Which key each algorithm needs (RFC 7518 §3.1); a key's `alg` must be one of these.
const ALG_FITS: Record<SigningAlg, { kty: string; crv?: string; hash: string; dsaEncoding?: 'ieee-p1363' }> = {
  ES256: { kty: 'EC', crv: 'P-256', hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  RS256: { kty: 'RSA', hash: 'sha256' },
};
const RSA_PRIVATE_PARTS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
const PUBLIC_PARTS: Record<string, readonly string[]> = { EC: ['kty', 'crv', 'x', 'y'], RSA: ['kty', 'n', 'e'] };
const PROBE = Buffer.from('onedoor signing key check');
const MISSING: Record<SigningAlg, KeysProblemReason> = { ES256: 'missing_es256', RS256: 'missing_rs256' };

const isSigningAlg = (alg: unknown): alg is SigningAlg => (SIGNING_ALGS as readonly unknown[]).includes(alg);

/** A kid fit to appear in a log line: what a key id looks like, else left out. */
function printableKid(kid: unknown): string | undefined {
  return typeof kid === 'string' && /^[\w.:~+/=-]{1,100}$/.test(kid) ? kid : undefined;
}

/** Signs with the private key and verifies with the public parts alone: the pair works. */
function signsForItsPublicKey(key: JWK, alg: SigningAlg): boolean {
  const fit = ALG_FITS[alg];
  try {
    const privateKey = createPrivateKey({ key: key as never, format: 'jwk' });
    const publicJwk = Object.fromEntries(PUBLIC_PARTS[fit.kty]!.map((p) => [p, (key as Record<string, unknown>)[p]]));
    const publicKey = createPublicKey({ key: publicJwk as never, format: 'jwk' });
    const options = fit.dsaEncoding ? { dsaEncoding: fit.dsaEncoding } : {};
    const signature = sign(fit.hash, PROBE, { key: privateKey, ...options });
    return verify(fit.hash, PROBE, { key: publicKey, ...options }, signature);
  } catch {
    // The error names the key's parameters and may hold them: only the verdict leaves.
    return false;
  }
}

/** OneDoor's own rules for one key; undefined when it passes them. */
function problemOfKey(key: JWK, seenKids: Set<string>): KeysProblemReason | undefined {
  if (typeof key.kty !== 'string' || typeof key.kid !== 'string' || !key.kid || typeof key.d !== 'string' || !key.d) return 'not_private_key';
  if (seenKids.has(key.kid)) return 'duplicate_kid';
  seenKids.add(key.kid);
  if (!isSigningAlg(key.alg)) return 'unsupported_alg';
  const fit = ALG_FITS[key.alg];
  if (key.kty !== fit.kty || (fit.crv !== undefined && key.crv !== fit.crv)) return 'alg_mismatch';
  if (key.use !== undefined && key.use !== 'sig') return 'not_for_signing';
  if (fit.kty === 'RSA') {
    if (RSA_PRIVATE_PARTS.some((p) => typeof (key as Record<string, unknown>)[p] !== 'string' || !(key as Record<string, unknown>)[p])) return 'incomplete_rsa_key';
    if (Buffer.from(key.n!, 'base64url').length < 256) return 'rsa_too_short';
  }
  return signsForItsPublicKey(key, key.alg) ? undefined : 'key_mismatch';
}

let scratch: Provider | undefined;

/** A provider that is never mounted, only there to own a keystore built from candidate keys. */
function scratchProvider(): Provider {
  // An adapter and no devInteractions, so that building it prints none of oidc-provider's
  // quick-start warnings; `keys: []` is a valid (empty) set.
  scratch ??= new Provider('https://signing-keys-check.invalid', {
    jwks: { keys: [] },
    adapter: class NoStorage {} as never,
    features: { devInteractions: { enabled: false } },
  });
  return scratch;
}

function providerAccepts(keys: JWK[]): boolean {
  try {
    (initializeKeystore as (this: Provider, jwks: unknown) => void).call(scratchProvider(), structuredClone({ keys }));
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a private JWK Set (the parsed content of KEYS_DIR/jwks.json) before anything signs
 * with it: OneDoor's rules for each key (unique kid, an `alg` OneDoor signs with that fits the
 * key type and curve, complete RSA private keys, a private part that signs for the public one),
 * then oidc-provider's own keystore built from the whole set, then one key per algorithm.
 * Never throws; the first problem found is returned with the key's index and kid.
 */
export function checkSigningKeys(jwks: unknown): CheckSigningKeysResult {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!jwks || typeof jwks !== 'object' || !Array.isArray(keys) || keys.length === 0) return { ok: false, problem: { reason: 'no_keys' } };
  const seenKids = new Set<string>();
  for (const [index, k] of keys.entries()) {
    const key = (k && typeof k === 'object' && !Array.isArray(k) ? k : {}) as JWK;
    const reason = problemOfKey(key, seenKids);
    if (reason) return { ok: false, problem: { reason, index, ...(printableKid(key.kid) ? { kid: printableKid(key.kid)! } : {}) } };
  }
  if (!providerAccepts(keys as JWK[])) {
    // Which key: the first prefix of the set the keystore refuses ends with it.
    const index = keys.findIndex((_, i) => !providerAccepts(keys.slice(0, i + 1) as JWK[]));
    const kid = printableKid((keys[index] as JWK | undefined)?.kid);
    return { ok: false, problem: { reason: 'rejected_by_provider', ...(index >= 0 ? { index } : {}), ...(kid ? { kid } : {}) } };
  }
  for (const alg of SIGNING_ALGS) {
    if (!keys.some((k: JWK) => k.alg === alg)) return { ok: false, problem: { reason: MISSING[alg] } };
  }
  return { ok: true, jwks: { keys: keys as JWK[] } };
}

/** One line for people: `jwks.json in KEYS_DIR (FILE): keys[1] (kid "abc") has the same "kid" as an earlier key`. */
export function describeKeysProblem(file: string, problem: KeysProblem): string {
  const where = problem.index === undefined ? '' : ` keys[${problem.index}]${problem.kid ? ` (kid "${problem.kid}")` : ''}`;
  return `jwks.json in KEYS_DIR (${file}):${where} ${KEYS_PROBLEMS[problem.reason]}`;
}

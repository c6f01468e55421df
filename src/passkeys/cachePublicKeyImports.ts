/**
 * Each passkey's public key imported once. @simplewebauthn/server turns the stored COSE key into
 * a JWK and imports it with WebCrypto (`crypto.subtle.importKey('jwk', …, ['verify'])`) on
 * every assertion, and that import was about half of verifyAuthenticationResponse's CPU
 * (`npm run bench -- --profile`). Importing is a pure function of its arguments, so the
 * CryptoKey (immutable, not extractable) for the same public key bytes, algorithm and usages is
 * kept and handed back. Only public keys imported for verification are kept (a JWK with a
 * private part, or any other format or usage, goes straight through), at most MAX_KEYS, the
 * least recently used leaving first.
 */
export const MAX_KEYS = 10_000;

type ImportKey = SubtleCrypto['importKey'];
const INSTALLED = Symbol.for('onedoor.cachedPublicKeyImports');

export interface KeyImportCache {
  /** Imports done (cache misses), for tests. */
  readonly imports: number;
  readonly size: number;
}

function cacheKey(format: string, keyData: unknown, algorithm: unknown, extractable: boolean, usages: readonly string[]): string | undefined {
  if (format !== 'jwk' || extractable || usages.length !== 1 || usages[0] !== 'verify') return undefined;
  const jwk = keyData as Record<string, unknown>;
  if (!jwk || typeof jwk !== 'object' || 'd' in jwk || 'p' in jwk || 'k' in jwk) return undefined;
  const material = [jwk['kty'], jwk['crv'], jwk['x'], jwk['y'], jwk['n'], jwk['e'], jwk['alg'], jwk['pub']];
  if (!material.every((v) => v === undefined || typeof v === 'string')) return undefined;
  return JSON.stringify([material, algorithm]);
}

/** Installs the cache on this process's WebCrypto (once); returns its counters. */
export function cachePublicKeyImports(subtle: SubtleCrypto = globalThis.crypto.subtle): KeyImportCache {
  const holder = subtle as SubtleCrypto & { [INSTALLED]?: KeyImportCache };
  if (holder[INSTALLED]) return holder[INSTALLED];
  const original: ImportKey = subtle.importKey.bind(subtle);
  const keys = new Map<string, Promise<CryptoKey>>();
  let imports = 0;
  const cached = ((format: string, keyData: unknown, algorithm: unknown, extractable: boolean, usages: readonly string[]) => {
    const key = cacheKey(format, keyData, algorithm, extractable, usages);
    if (key === undefined) return (original as (...a: unknown[]) => Promise<CryptoKey>)(format, keyData, algorithm, extractable, usages);
    const hit = keys.get(key);
    if (hit) {
      keys.delete(key);
      keys.set(key, hit);
      return hit;
    }
    imports += 1;
    const made = (original as (...a: unknown[]) => Promise<CryptoKey>)(format, keyData, algorithm, extractable, usages);
    keys.set(key, made);
    // A key that failed to import is not kept: the next attempt tries again.
    made.catch(() => { if (keys.get(key) === made) keys.delete(key); });
    if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value!);
    return made;
  }) as unknown as ImportKey;
  Object.defineProperty(subtle, 'importKey', { value: cached, configurable: true, writable: true });
  const counters: KeyImportCache = { get imports() { return imports; }, get size() { return keys.size; } };
  Object.defineProperty(subtle, INSTALLED, { value: counters });
  return counters;
}

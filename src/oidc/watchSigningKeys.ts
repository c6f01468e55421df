import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Provider from 'oidc-provider';
// oidc-provider builds its keystore once, from `jwks` at construction, and has no public API to
// replace it. This is the function the constructor runs; calling it again on the same provider
// swaps the keystore (and the published JWKS) in one assignment, so requests in flight see
// either the old set or the new one. tests/integration/manyNodes.test.ts guards it on upgrades.
// @ts-expect-error no type declarations for oidc-provider's internal module
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { KeyMaterial } from './keys.js';
import { readSigningKeys } from './keys.js';

export type KeysCheck = { changed: false } | { changed: true; kids: string[] } | { changed: false; error: string };

export interface SigningKeysWatcher {
  /** Reads KEYS_DIR/jwks.json now; swaps the provider's keys when it changed. */
  check(): KeysCheck;
  stop(): void;
}

/**
 * Keeps a running node's signing keys equal to KEYS_DIR/jwks.json, so that `onedoor keys rotate`
 * run once (on a shared volume) is seen by every node without a restart. The check is cheap:
 * stat first, then a hash of the file only when its size or mtime moved. A file that does not
 * validate (half-copied, hand-edited) is ignored and the node keeps signing with what it has.
 */
export function watchSigningKeys(opts: { provider: Provider; keys: KeyMaterial; keysDir: string; intervalSeconds: number; onChange?: (r: KeysCheck) => void }): SigningKeysWatcher {
  const file = path.join(opts.keysDir, 'jwks.json');
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');
  let seenStat = '';
  let seenHash = digest(JSON.stringify(opts.keys.jwks));

  const check = (): KeysCheck => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return { changed: false, error: 'jwks.json is missing' };
    }
    const statKey = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (statKey === seenStat) return { changed: false };
    let jwks: KeyMaterial['jwks'];
    try {
      jwks = readSigningKeys(opts.keysDir);
    } catch (err) {
      return { changed: false, error: (err as Error).message };
    }
    seenStat = statKey;
    const hash = digest(JSON.stringify(jwks));
    if (hash === seenHash) return { changed: false };
    (initializeKeystore as (this: Provider, jwks: unknown) => void).call(opts.provider, structuredClone(jwks));
    opts.keys.jwks = jwks;
    seenHash = hash;
    return { changed: true, kids: jwks.keys.map((k) => k.kid!) };
  };

  const timer = setInterval(() => {
    const result = check();
    if (result.changed || 'error' in result) opts.onChange?.(result);
  }, opts.intervalSeconds * 1000);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}

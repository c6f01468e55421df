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
import { logger as defaultLogger, type Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/metrics.js';
import type { KeysProblem } from './checkSigningKeys.js';
import { KEK_FILE } from '../proofing/vault.js';
import type { KeyMaterial } from './keys.js';
import { readSigningKeys } from './keys.js';

export type KeysCheck = { changed: false } | { changed: true; kids: string[] } | { changed: false; problem: KeysProblem };

export interface SigningKeysWatcher {
  /** Reads KEYS_DIR/jwks.json now; swaps the provider's keys when it changed and is usable. Never throws. */
  check(): KeysCheck;
  stop(): void;
}

export interface WatchSigningKeysOptions {
  provider: Provider;
  keys: KeyMaterial;
  keysDir: string;
  intervalSeconds: number;
  metrics?: Metrics;
  logger?: Pick<Logger, 'info' | 'error'>;
}

/**
 * Keeps a running node's signing keys equal to KEYS_DIR/jwks.json (and its proofing KEK equal
 * to proofing-kek.json), so that `onedoor keys rotate` (or `rotate-kek`) run once, on a shared
 * volume, is seen by every node without a restart. The check is cheap:
 * stat first, then a read only when its size, mtime or inode moved.
 *
 * A file that does not pass checkSigningKeys (half copied, hand edited, a key oidc-provider
 * would refuse) is never handed to the provider: the node keeps signing with what it has,
 * says so once per change of the file (one log line with a reason code and the key's index and
 * kid), in /readyz (`keys` check) and in metrics, until a usable file replaces it.
 */
export function watchSigningKeys(opts: WatchSigningKeysOptions): SigningKeysWatcher {
  const file = path.join(opts.keysDir, 'jwks.json');
  const log = opts.logger ?? defaultLogger;
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');
  let seenStat = '';
  let seenHash = digest(JSON.stringify(opts.keys.jwks));

  const fail = (problem: KeysProblem): KeysCheck => {
    opts.keys.reloadProblem = problem;
    opts.metrics?.signingKeysReloadFailures.inc({ reason: problem.reason });
    opts.metrics?.signingKeysReloadFailing.set(1);
    log.error({ file: 'jwks.json', ...problem }, 'signing keys in KEYS_DIR are not usable; still signing with the previous keys');
    return { changed: false, problem };
  };

  const check = (): KeysCheck => {
    let statKey = 'missing';
    try {
      const stat = fs.statSync(file);
      statKey = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch { /* reported by readSigningKeys as "missing" */ }
    if (statKey === seenStat) return opts.keys.reloadProblem ? { changed: false, problem: opts.keys.reloadProblem } : { changed: false };
    // Seen whatever the outcome: a bad file is reported once per change, not at every tick.
    seenStat = statKey;
    const read = readSigningKeys(opts.keysDir);
    if (!read.ok) return fail(read.problem);
    if (opts.keys.reloadProblem) {
      opts.keys.reloadProblem = undefined;
      opts.metrics?.signingKeysReloadFailing.set(0);
      log.info({ file: 'jwks.json' }, 'signing keys in KEYS_DIR are usable again');
    }
    const hash = digest(JSON.stringify(read.jwks));
    if (hash === seenHash) return { changed: false };
    // The same keystore code already accepted this set on a scratch provider (checkSigningKeys);
    // were it to throw anyway, it throws before replacing the provider's keystore.
    (initializeKeystore as (this: Provider, jwks: unknown) => void).call(opts.provider, structuredClone(read.jwks));
    opts.keys.jwks = read.jwks;
    seenHash = hash;
    const kids = read.jwks.keys.map((k) => k.kid!);
    log.info({ kids }, 'signing keys reloaded');
    return { changed: true, kids };
  };

  /** Nothing may escape: in the timer an uncaught throw would end the process. */
  const safeCheck = (): KeysCheck => {
    try {
      return check();
    } catch {
      // The error itself is never logged: it may hold the key it choked on.
      return fail({ reason: 'unexpected' });
    }
  };

  // The proofing KEK file too (`keys rotate-kek`): new records are sealed under its new first
  // entry from the next tick on. Its problems are messages naming the entry, never a key.
  const checkKek = () => {
    try {
      const r = opts.keys.kek.reload?.();
      if (r?.changed) log.info({ kids: r.kids }, 'proofing key-encryption keys reloaded');
      else if (r && 'problem' in r) log.error({ file: KEK_FILE, problem: r.problem }, 'proofing key-encryption keys in KEYS_DIR are not usable; still using the previous ones');
    } catch {
      log.error({ file: KEK_FILE, reason: 'unexpected' }, 'checking the proofing key-encryption keys failed');
    }
  };

  const timer = setInterval(() => {
    try {
      safeCheck();
    } catch { /* reporting itself failed (a logger or metric broke): still nothing may escape */ }
    checkKek();
  }, opts.intervalSeconds * 1000);
  timer.unref();
  return { check: safeCheck, stop: () => clearInterval(timer) };
}

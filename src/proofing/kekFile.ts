import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { clock } from '../shared/clock.js';
import { randomId } from '../shared/ids.js';

/**
 * The key-encryption key file of the PII vault (src/proofing/vault.ts): KEYS_DIR/proofing-kek.json,
 * a JSON array of { kid, key, created }, never in the database. The first entry wraps new data
 * keys; every entry unwraps what it wrapped.
 */

export const KEK_FILE = 'proofing-kek.json';

export interface KekEntry {
  kid: string;
  /** A KeyObject, so the key never shows up in logs or JSON by accident. */
  key: KeyObject;
  created: string;
}

/** `entries[0]` wraps new data keys; every entry unwraps. */
export interface Kek {
  readonly entries: readonly KekEntry[];
  /**
   * A KEK read from KEYS_DIR can re-read its file (`onedoor keys rotate-kek` ran, here or on
   * another node): `entries` then change in place, so every holder of this object sees them.
   * A file that is not usable leaves the entries as they were. Cheap when nothing changed (a stat).
   */
  reload?(): KekReload;
}

export type KekReload = { changed: false } | { changed: true; kids: string[] } | { changed: false; problem: string };

export const KEY_BYTES = 32;
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function newKekEntryJson(): { kid: string; key: string; created: string } {
  return { kid: randomId(9), key: randomBytes(KEY_BYTES).toString('base64url'), created: clock.now().toISOString() };
}

function parseKekFile(text: string): Kek {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // No `cause`: JSON.parse's message quotes the text around the fault, here a key.
    throw new Error(`${KEK_FILE} in KEYS_DIR is not valid JSON`);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new Error(`${KEK_FILE}: must be a non-empty JSON array of { "kid", "key", "created" }`);
  const seen = new Set<string>();
  const entries = raw.map((item: unknown, i): KekEntry => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new Error(`${KEK_FILE}: [${i}] must be an object with "kid", "key" and "created"`);
    const e = item as Record<string, unknown>;
    if (typeof e['kid'] !== 'string' || !KID_PATTERN.test(e['kid'])) {
      throw new Error(`${KEK_FILE}: [${i}].kid must be 1-64 characters of letters, digits, "-" or "_"`);
    }
    if (seen.has(e['kid'])) throw new Error(`${KEK_FILE}: [${i}].kid "${e['kid']}" appears twice`);
    seen.add(e['kid']);
    const key = typeof e['key'] === 'string' && /^[A-Za-z0-9_-]{43}$/.test(e['key']) ? Buffer.from(e['key'], 'base64url') : undefined;
    if (!key || key.length !== KEY_BYTES) throw new Error(`${KEK_FILE}: [${i}].key must be ${KEY_BYTES} random bytes in base64url (43 characters)`);
    if (typeof e['created'] !== 'string' || Number.isNaN(Date.parse(e['created']))) {
      throw new Error(`${KEK_FILE}: [${i}].created must be an ISO 8601 date-time`);
    }
    return { kid: e['kid'], key: createSecretKey(key), created: e['created'] };
  });
  return { entries };
}

function statKey(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The KEK of `file`, able to reload itself when the file changes (see `Kek.reload`). */
function readKekFile(file: string): Kek {
  let seen = statKey(file);
  const kek = {
    entries: parseKekFile(fs.readFileSync(file, 'utf8')).entries,
    reload(): KekReload {
      const now = statKey(file);
      if (now === seen) return { changed: false };
      seen = now;
      let next: Kek;
      try {
        next = parseKekFile(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        return { changed: false, problem: now === 'missing' ? `${KEK_FILE} is missing` : (err as Error).message };
      }
      const kids = next.entries.map((e) => e.kid);
      const same = kids.join() === kek.entries.map((e) => e.kid).join();
      kek.entries = next.entries;
      return same ? { changed: false } : { changed: true, kids };
    },
  };
  return kek;
}

/**
 * Creates `file` only if it does not exist: written to a temporary name, then hard-linked into
 * place (atomic, and fails if another node got there first, in which case theirs wins and we
 * read it). A plain rename could replace a KEK another node has already sealed records with.
 */
function createExclusively(file: string, value: unknown): boolean {
  const tmp = `${file}.${process.pid}.${randomId(4)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Reads KEYS_DIR/proofing-kek.json, generating it (mode 0600) on first use. */
export async function loadOrCreateKek(opts: { keysDir: string; onCreate?: (message: string) => void }): Promise<Kek> {
  fs.mkdirSync(opts.keysDir, { recursive: true });
  const file = path.join(opts.keysDir, KEK_FILE);
  if (!fs.existsSync(file) && createExclusively(file, [newKekEntryJson()])) {
    opts.onCreate?.(`generated the proofing key-encryption key in ${file}`);
  }
  return readKekFile(file);
}

/**
 * Puts a new KEK entry first and returns its kid. Old entries stay (they unwrap what they
 * sealed) until no record is wrapped by them. A running node seals with it once it has
 * reloaded the file (`Kek.reload`: on its next keys check, or at once on a kid it does not know).
 */
export async function rotateKek(opts: { keysDir: string }): Promise<string> {
  await loadOrCreateKek({ keysDir: opts.keysDir });
  const file = path.join(opts.keysDir, KEK_FILE);
  const current = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown[];
  const fresh = newKekEntryJson();
  const tmp = `${file}.${process.pid}.${randomId(4)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify([fresh, ...current], null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return fresh.kid;
}

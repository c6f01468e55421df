import fs from 'node:fs/promises';
import path from 'node:path';
import { clock } from './clock.js';

/**
 * The outbox (OUTBOX_DIR): without SMTP or real SMS and postal vendors, every message is one
 * file, named by the time it was written (`20250102T030405678Z-000042-…`, DESIGN.md "Outbox"):
 * mail as `.eml` (src/shared/mailer.ts), sandbox SMS and letters as `-sms.txt` and
 * `-letter.txt` (src/proofing/vendors/sandboxOutbox.ts). They hold people's addresses, phone
 * numbers, names and codes in clear, so they are kept for a while only (`purgeOutbox`) and go
 * with the person's account (`deleteOutboxMessagesTo`).
 */

/**
 * The start of every message's name: the UTC time it was written, fixed width, so that lexical
 * order is write order. Real time, not the domain clock: files must sort in the order they were written.
 */
export function outboxStamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** The time in a message's name (also on a temporary `.…tmp` file a crash left behind). */
const STAMP = /^\.?(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/;

function writtenAt(name: string): number | undefined {
  const m = STAMP.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
}

async function remove(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (err) {
    // Another node purging the same shared folder got there first.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function messageNames(outboxDir: string): Promise<string[]> {
  try {
    return (await fs.readdir(outboxDir, { withFileTypes: true })).filter((e) => e.isFile() && STAMP.test(e.name)).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Deletes the messages written more than `retentionHours` ago, by the time in their name (the
 * send time, which a copy or a `touch` does not change), against the domain clock. Files that
 * are not named like messages are left alone. Returns how many went.
 */
export async function purgeOutbox(opts: { outboxDir: string; retentionHours: number }): Promise<number> {
  const cutoff = clock.nowMs() - opts.retentionHours * 3600 * 1000;
  let removed = 0;
  for (const name of await messageNames(opts.outboxDir)) {
    if (writtenAt(name)! < cutoff && await remove(path.join(opts.outboxDir, name))) removed += 1;
  }
  return removed;
}

/** Whom a message was sent to, as deleteOutboxMessagesTo compares it. */
export interface OutboxRecipients {
  /** Email addresses (compared without case). */
  emails: readonly string[];
  /** Phone numbers in E.164, as the SMS port takes them. */
  phones: readonly string[];
  /** A letter's address block as printed: `To: NAME`, then the address lines (see sandboxLetters.ts). */
  letters: readonly string[];
}

/** The lines before the first blank line, with folded header lines joined. */
function head(text: string): string {
  const end = text.search(/\r?\n\r?\n/);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
}

const letterKey = (block: string) => block.normalize('NFC').replace(/\s+/g, ' ').trim().toUpperCase();

// How each kind of message names its recipient, by file suffix: one row per kind.
const KINDS: ReadonlyArray<{ suffix: string; sentTo(text: string, to: OutboxRecipients): boolean }> = [
  {
    suffix: '.eml',
    sentTo: (text, to) => {
      const wanted = new Set(to.emails.map((e) => e.toLowerCase()));
      const headers = head(text).split(/\r?\n/).filter((l) => /^(to|cc|bcc):/i.test(l));
      return headers.some((l) => (l.slice(l.indexOf(':') + 1).match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? []).some((a) => wanted.has(a.toLowerCase())));
    },
  },
  { suffix: '-sms.txt', sentTo: (text, to) => to.phones.includes(/^To: (\S+)/.exec(text)?.[1] ?? '') },
  { suffix: '-letter.txt', sentTo: (text, to) => to.letters.map(letterKey).includes(letterKey(head(text))) },
];

/**
 * Deletes every message in the outbox sent to one of these recipients (an account being
 * deleted), whatever its age. Returns how many went.
 */
export async function deleteOutboxMessagesTo(opts: { outboxDir: string; to: OutboxRecipients }): Promise<number> {
  let removed = 0;
  for (const name of await messageNames(opts.outboxDir)) {
    const kind = KINDS.find((k) => name.endsWith(k.suffix));
    if (!kind) continue;
    const file = path.join(opts.outboxDir, name);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (kind.sentTo(text, opts.to) && await remove(file)) removed += 1;
  }
  return removed;
}

import fs from 'node:fs';
import path from 'node:path';
import { outboxStamp } from '../../shared/outbox.js';

let seq = 0;

/**
 * Writes one sandbox message into the outbox with the mailer's naming scheme
 * (src/shared/mailer.ts): a fixed-width UTC timestamp, then a sequence number, so lexical
 * order is send order and the newest sorts last: `20250102T030405678Z-000042-sms.txt`.
 * The file appears whole (written aside, then linked into place) and never replaces another
 * message: on a name clash (another process, same millisecond) the next sequence is tried.
 */
export function writeSandboxOutboxFile(opts: { outboxDir: string; kind: 'sms' | 'letter'; content: string }): string {
  fs.mkdirSync(opts.outboxDir, { recursive: true });
  const stamp = outboxStamp();
  const tmp = path.join(opts.outboxDir, `.${stamp}-${process.pid}-${opts.kind}.tmp`);
  fs.writeFileSync(tmp, opts.content, { mode: 0o600 });
  try {
    for (;;) {
      seq = (seq + 1) % 1_000_000;
      const file = path.join(opts.outboxDir, `${stamp}-${String(seq).padStart(6, '0')}-${opts.kind}.txt`);
      try {
        fs.linkSync(tmp, file);
        return file;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { randomId } from './ids.js';
import { outboxStamp } from './outbox.js';

/** The mail port. Domain code composes messages; this only delivers them. */
export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>;
}

/**
 * SMTP when `smtpUrl` is set; otherwise each message becomes one `.eml` file in `outboxDir`,
 * named by time so that the newest sorts last (the outbox contract in DESIGN.md).
 */
export function createMailer(opts: { smtpUrl?: string | undefined; outboxDir: string; from: string }): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      async send(m) {
        await transport.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text });
      },
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(m) {
      const info = await transport.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text });
      fs.mkdirSync(opts.outboxDir, { recursive: true });
      // Time first (fixed width), then a sequence and a random suffix: lexical order = send order.
      const name = `${outboxStamp()}-${String(nextSeq()).padStart(6, '0')}-${randomId(4)}.eml`;
      const tmp = path.join(opts.outboxDir, `.${name}.tmp`);
      fs.writeFileSync(tmp, info.message as Buffer, { mode: 0o600 });
      fs.renameSync(tmp, path.join(opts.outboxDir, name));
    },
  };
}

let seq = 0;
function nextSeq(): number {
  seq = (seq + 1) % 1_000_000;
  return seq;
}

import { type SmsSender, VendorUnavailable } from './ports.js';
import { writeSandboxOutboxFile } from './sandboxOutbox.js';

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Sandbox SMS: each message is a `…-sms.txt` file in the outbox (`To: <phone>`, a blank line,
 * the text). A number ending in `0999` → VendorUnavailable, and nothing is written. A number
 * that is not E.164 is the caller's bug and throws a TypeError, as a real gateway would refuse it.
 */
export function createSandboxSms(opts: { outboxDir: string }): SmsSender {
  return {
    async send(input) {
      if (!E164.test(input.phone)) throw new TypeError('sms: phone must be E.164, e.g. +12025550142');
      if (input.phone.endsWith('0999')) throw new VendorUnavailable('sandbox SMS: gateway unavailable (number ends in 0999)');
      writeSandboxOutboxFile({ outboxDir: opts.outboxDir, kind: 'sms', content: `To: ${input.phone}\n\n${input.text}\n` });
    },
  };
}

import type { LetterSender, PersonRecord } from './ports.js';
import { writeSandboxOutboxFile } from './sandboxOutbox.js';

/** The address block at the top of a sandbox letter: `To: <name>`, then the lines of the address. */
export function letterAddressBlock(name: string, a: PersonRecord['address']): string {
  return [`To: ${name}`, a.street1, ...(a.street2 ? [a.street2] : []), `${a.city}, ${a.state} ${a.postalCode}`].join('\n');
}

/**
 * Sandbox postal mail: each letter is a `…-letter.txt` file in the outbox — `To: <name>`, the
 * address lines as they would be printed, a blank line, then the text. Always delivered.
 */
export function createSandboxLetters(opts: { outboxDir: string }): LetterSender {
  return {
    async send(input) {
      writeSandboxOutboxFile({ outboxDir: opts.outboxDir, kind: 'letter', content: `${letterAddressBlock(input.name, input.address)}\n\n${input.text}\n` });
    },
  };
}

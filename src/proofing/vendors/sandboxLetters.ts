import type { LetterSender } from './ports.js';
import { writeSandboxOutboxFile } from './sandboxOutbox.js';

/**
 * Sandbox postal mail: each letter is a `…-letter.txt` file in the outbox — `To: <name>`, the
 * address lines as they would be printed, a blank line, then the text. Always delivered.
 */
export function createSandboxLetters(opts: { outboxDir: string }): LetterSender {
  return {
    async send(input) {
      const a = input.address;
      const lines = [`To: ${input.name}`, a.street1, ...(a.street2 ? [a.street2] : []), `${a.city}, ${a.state} ${a.postalCode}`];
      writeSandboxOutboxFile({ outboxDir: opts.outboxDir, kind: 'letter', content: `${lines.join('\n')}\n\n${input.text}\n` });
    },
  };
}

import { hmac } from '../shared/ids.js';

/**
 * Whom the phone-request limits count for: the account when the agency named one, otherwise the
 * address it asked for. Both are keyed digests (the pepper), so a request for an address without
 * an account is counted exactly like one for an address with an account — what an agency sees of
 * the limits never says which it was — and the stored key says nothing without the pepper.
 */
export function personKey(opts: { pepper: string } & ({ accountId: string } | { email: string })): string {
  return hmac(opts.pepper, 'accountId' in opts ? `phone-person:account:${opts.accountId}` : `phone-person:email:${opts.email}`);
}

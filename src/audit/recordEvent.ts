import type { EntityManager } from 'typeorm';
import { AuditEvent } from '../../entities/index.js';
import { clock } from '../shared/clock.js';
import { randomUUID } from 'node:crypto';

/** Event types a person sees in their history; each has a message `history.<type>`. */
export const AUDIT_EVENT_TYPES = [
  'account_created', 'email_confirmed', 'signed_in', 'sign_in_failed', 'signed_in_with_recovery_code',
  'passkey_added', 'passkey_renamed', 'passkey_removed', 'recovery_codes_regenerated',
  'consent_granted', 'agency_disconnected', 'signed_out', 'signed_out_everywhere', 'account_locked', 'recovery_codes_paused',
  'proofing_started', 'proofing_document_checked', 'proofing_facial_match_checked', 'proofing_records_checked',
  'proofing_code_sent', 'proofing_code_checked', 'proofing_abandoned', 'identity_verified', 'verified_profile_deleted',
  'verified_profile_deactivated', 'verified_profile_reactivated',
  'delegation_invited', 'delegation_requested', 'delegation_accepted', 'delegation_declined', 'delegation_approved',
  'delegation_revoked', 'delegation_expired', 'delegation_used',
  'account_disabled', 'account_enabled', 'account_deleted',
  'phone_request_received', 'phone_confirmed', 'phone_confirmed_for', 'phone_denied', 'phone_not_me', 'phone_unmet',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * Appends one event. `details` must hold no PII or secrets: names the person chose for their
 * passkeys, client ids, the browser family — never an email, code or token.
 */
// Events recorded in one request share a millisecond; keep their order visible in the history.
let lastAt = 0;
function nextTimestamp(): Date {
  lastAt = Math.max(clock.nowMs(), lastAt + 1);
  return new Date(lastAt);
}

export async function recordEvent(opts: {
  db: EntityManager;
  accountId: string;
  type: AuditEventType;
  clientId?: string | undefined;
  details?: Record<string, string | number | boolean>;
}): Promise<void> {
  // Every column is given here: no need for TypeORM to read generated values back.
  await opts.db.createQueryBuilder().insert().into(AuditEvent).values({
    id: randomUUID(),
    accountId: opts.accountId,
    type: opts.type,
    clientId: opts.clientId ?? null,
    details: JSON.stringify(opts.details ?? {}),
    at: nextTimestamp(),
  }).updateEntity(false).execute();
}
